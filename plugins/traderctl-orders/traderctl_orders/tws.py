"""The TWS side of the order commands: connect, resolve, place and wait for IB's answer.

ib_async is imported inside the functions. Every command runs one ``asyncio.run``;
the symbols plugin's (blocking) resolution runs in a thread, as its hook asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from traderctl.securities import SecurityDefinition

# Codes that are news, not a verdict on an order (fills, warnings, data farms).
INFO_CODES = {399, 404, 2103, 2104, 2105, 2106, 2107, 2108, 2109, 2119, 2157, 2158, 10147,
              10148, 10349}
ANSWER_SECONDS = 5.0


class OrderRefused(RuntimeError):
    """Refused before sending (limits, account, confirmation) or by IB (with its reason)."""


class TwsRefused(OrderRefused):
    """IB refused orders: ``errors`` (orderId, code, text); ``trades`` all that were placed
    in the same call, refused or not (a bracket's other orders may have been accepted)."""

    def __init__(self, errors: list[tuple[int, int, str]], trades: list[Any]) -> None:
        super().__init__("; ".join(_refusal(i, c, t) for i, c, t in errors))
        self.errors = errors
        self.trades = trades

    def reasons(self) -> dict[int, tuple[int, str]]:
        """orderId -> (code, text) of IB's first refusal of it."""
        out: dict[int, tuple[int, str]] = {}
        for order_id, code, text in self.errors:
            out.setdefault(order_id, (code, text))
        return out


def client_id(config: Any) -> int:
    own = config.get("orders.client_id")
    return int(own) if own is not None else int(config.get("ib.client_id")) + 100


@asynccontextmanager
async def connected(config: Any, offset: int = 0) -> AsyncIterator[Any]:
    """An ib_async IB connected to ``ib.host:ib.port`` with the order client id (+offset)."""
    from ib_async import IB

    from traderctl.tws.session import close, quiet

    ib = IB()
    quiet(ib)
    host, port = config.get("ib.host"), int(config.get("ib.port"))
    try:
        await ib.connectAsync(host, port, clientId=client_id(config) + offset, timeout=10)
    except (OSError, TimeoutError) as exc:
        close(ib)
        raise OrderRefused(f"cannot reach TWS at {host}:{port}: {exc or type(exc).__name__}"
                           ) from None
    try:
        yield ib
    finally:
        close(ib)


def resolve(pm: Any, config: Any, symbols: Sequence[str]) -> dict[str, SecurityDefinition]:
    """Each symbol's security, through the symbols plugin; ``#<conId>`` taken as given."""
    wanted = sorted({s for s in symbols if not s.startswith("#")})
    secs: dict[str, SecurityDefinition] = {}
    for s in symbols:
        if s.startswith("#"):
            if not s[1:].isdigit() or int(s[1:]) <= 0:
                raise OrderRefused(f"{s}: a conId is # followed by a positive number")
            secs[s] = SecurityDefinition(int(s[1:]), s, "STK", "SMART", "", "")
    if not wanted:
        return secs
    from traderctl_symbols.resolve import TwsUnreachable

    try:
        resolution = pm.hook.resolve_securities(symbols=wanted, config=config, options=None)
    except TwsUnreachable as exc:
        raise OrderRefused(str(exc)) from None
    if resolution is None:
        raise OrderRefused("no plugin resolves symbols (is traderctl-symbols installed?)")
    found = resolution.securities
    missing = [s for s in wanted if s not in found]
    if missing:
        reasons = {r.query.text: r.error or r.status for r in resolution.results}
        raise OrderRefused("cannot resolve " + ", ".join(
            f"{s} ({reasons.get(s, 'unknown')})" for s in missing))
    secs.update(found)
    return secs


@dataclass
class Answer:
    """What IB said about the orders just placed."""

    errors: list[tuple[int, int, str]] = field(default_factory=list)


async def place_all(ib: Any, contract: Any, orders: list[Any], keep_ids: bool = False
                    ) -> list[Any]:
    """Place the orders (parent first, children get its id); raise IB's refusal if any.
    ``keep_ids``: the orders exist already (a modification)."""
    answer = Answer()
    ids = {o.orderId for o in orders} if keep_ids else set()

    def on_error(req_id: int, code: int, text: str, *_: Any) -> None:
        if req_id in ids and code not in INFO_CODES:
            answer.errors.append((req_id, code, text))

    ib.errorEvent += on_error
    try:
        trades = []
        for order in orders:
            if not keep_ids:
                order.orderId = ib.client.getReqId()
                ids.add(order.orderId)
                if order is not orders[0]:
                    order.parentId = orders[0].orderId
            trades.append(ib.placeOrder(contract, order))
        await settle(trades, answer, keep_ids)
    finally:
        ib.errorEvent -= on_error
    if answer.errors:
        raise TwsRefused(answer.errors, trades)
    return trades


async def what_if(ib: Any, contract: Any, order: Any) -> Any:
    """IB's margin and commission estimate for ``order`` (a copy is sent with whatIf set:
    IB keeps nothing). Its refusal raises :class:`TwsRefused`; no answer in time too.
    ib_async's ``whatIfOrderAsync`` waits forever on a refusal IB sends as a warning
    (321, read-only), so the request is made here with its id known."""
    import copy

    probe = copy.copy(order)
    probe.whatIf, probe.transmit, probe.parentId = True, True, 0
    probe.orderId = req_id = ib.client.getReqId()
    errors: list[tuple[int, int, str]] = []
    refused = asyncio.Event()

    def on_error(rid: int, code: int, text: str, *_: Any) -> None:
        if rid == req_id and code not in INFO_CODES:
            errors.append((rid, code, text))
            refused.set()

    future = ib.wrapper.startReq(req_id, contract)
    ib.errorEvent += on_error
    waiter = asyncio.ensure_future(refused.wait())
    try:
        ib.client.placeOrder(req_id, contract, probe)
        await asyncio.wait([future, waiter], timeout=ANSWER_SECONDS * 2,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        ib.errorEvent -= on_error
        waiter.cancel()
    if errors:
        raise TwsRefused(errors, [])
    state = future.result() if future.done() and not future.exception() else None
    if not state:  # None (no answer in time) or [] (ib_async ended the request on an error)
        raise TwsRefused([(req_id, 0, "no what-if answer from TWS")], [])
    return state


def _refusal(order_id: int, code: int, text: str) -> str:
    hint = ""
    if "read-only" in text.lower():
        hint = (" (the API session is read-only: TWS Configure > API > Settings > "
                "Read-Only API, or IBC's ReadOnlyApi=no)")
    return f"IB refused order {order_id}: error {code}: {text}{hint}"


async def settle(trades: list[Any], answer: Answer | None = None, fresh: bool = False,
                 done: set[str] | None = None) -> None:
    """Until IB answered every order (left PendingSubmit, or reached ``done``; ``fresh``:
    a new status message after a modification), IB refused one, or time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_SECONDS
    counts = [len(t.log) for t in trades]

    def answered(t: Any, count: int) -> bool:
        status = t.orderStatus.status
        if done is not None:
            return status in done
        return status not in ("", "PendingSubmit", "ApiPending") and (
            not fresh or len(t.log) > count)

    while loop.time() < deadline and not (answer and answer.errors):
        if all(answered(t, c) for t, c in zip(trades, counts, strict=True)):
            return
        await asyncio.sleep(0.05)


async def names_for(ib: Any, con_ids: set[int], known: dict[int, str]) -> dict[int, str]:
    """conId -> symbol, asking TWS for the ones not already known."""
    from ib_async import Contract

    names = dict(known)
    for con_id in con_ids - set(names):
        details = await ib.reqContractDetailsAsync(Contract(conId=con_id))
        if details:
            names[con_id] = details[0].contract.symbol
    return names
