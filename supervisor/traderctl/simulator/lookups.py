"""Contract and historical-data requests of one session (the lookups TWS answers).

reqContractDetails (9), reqMatchingSymbols (81), reqSecDefOptParams (78),
reqMarketRule (91), reqHistoricalData (20, pacing in :mod:`.pacing`) and
reqHeadTimeStamp (87). Each function takes the
:class:`~traderctl.simulator.session.ClientSession` that received the request.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from . import details, history
from ._log import get_logger
from .clock import utcnow
from .marketrules import market_rule
from .pacing import SMALL_BAR_SECONDS
from .universe import AmbiguousContract, ContractQuery, Listing

if TYPE_CHECKING:
    from .session import ClientSession

log = get_logger(__name__)

NO_SECDEF = "No security definition has been found for the request"
PACING_TEXT = history.HMDS + "Historical data request pacing violation"
TOO_MANY_TEXT = (
    "Error processing request.-'bX' : cause - "
    "Only 50 simultaneous API historical data requests allowed."
)


# ---- contracts ------------------------------------------------------------------


def contract_details(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    query = ContractQuery.from_fields(f[3:15])
    try:
        matches = s.sim.universe.resolve(query)
    except AmbiguousContract:
        s.error(req_id, 200, f"The contract description specified for {query.symbol} is ambiguous.")
        return
    if not matches:
        s.error(req_id, 200, NO_SECDEF)
        return
    now = utcnow()
    for match in matches:
        s.send_raw(details.contract_details(req_id, match, now))
    s.send(details.contract_details_end(req_id))


def matching_symbols(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    pattern = f[2] if len(f) > 2 else ""
    s.send(details.symbol_samples(req_id, s.sim.universe.matching_symbols(pattern)))


def sec_def_opt_params(s: ClientSession, f: list[str]) -> None:
    """[78, reqId, underlyingSymbol, futFopExchange, underlyingSecType, underlyingConId]."""
    req_id = int(f[1])
    symbol = f[2] if len(f) > 2 else ""
    under_con_id = int(f[5] or 0) if len(f) > 5 and f[5].lstrip("-").isdigit() else 0
    chain = [
        lst
        for lst in s.sim.universe.by_symbol_type.get((symbol.upper(), "OPT"), [])
        if not under_con_id or lst.under_con_id == under_con_id
    ]
    if chain:
        expiries = sorted({lst.last_trade for lst in chain})
        strikes = sorted({lst.strike for lst in chain})
        first = chain[0]
        for exchange in first.valid_exchanges:
            head = [75, req_id, exchange, first.under_con_id, first.trading_class, "100"]
            s.send([*head, len(expiries), *expiries, len(strikes), *strikes])
    s.send([76, req_id])


def market_rule_request(s: ClientSession, f: list[str]) -> None:
    rule_id = int(f[1]) if len(f) > 1 and f[1].isdigit() else -1
    fields = market_rule(rule_id)
    if fields is None:
        s.error(-1, 321, f"Error validating request.-'cd' : cause - market rule {rule_id}")
        return
    s.send(fields)


# ---- historical data ------------------------------------------------------------


def historical_data(s: ClientSession, f: list[str]) -> None:
    req = history.HistRequest.from_fields(f)
    listing = s.sim.universe.resolve_one(req.contract)
    if listing is None:
        s.error(req.req_id, 200, NO_SECDEF)
        return
    now = utcnow()
    pacer = s.sim.pacer
    try:
        step, _, _, _ = history.validate(req, s.sim.tz, now)
        weight = 2 if req.what == "BID_ASK" else 1
        if step <= SMALL_BAR_SECONDS:
            _hard_pacing(s, req, listing, weight)
            hold = 0.0
        elif pacer.at_capacity():
            raise history.HistoryError(322, TOO_MANY_TEXT)
        else:
            hold = pacer.soft_hold(weight)
        fields = history.build_bars(
            req, listing, s.sim.model(listing), s.sim.tz, now, s.sim.market.always_open
        )
    except history.HistoryError as exc:
        s.error(req.req_id, exc.code, exc.message)
        return
    if hold:
        pacer.held += 1
        s.sim.spawn(_send_later(s, hold, fields))
    else:
        s.send(fields)
    if req.keep_up_to_date and step < 86400 * 7:
        s.sim.live.keep_up_to_date(s, req.req_id, listing, step, req.what)


def _hard_pacing(s: ClientSession, req: history.HistRequest, listing: Listing, weight: int) -> None:
    violation = s.sim.pacer.check(req.identity(), req.burst_key(listing), weight)
    if violation:
        log.info(
            "sim_tws_pacing_violation",
            client_id=s.client_id,
            req_id=req.req_id,
            rule=violation,
        )
        raise history.HistoryError(162, PACING_TEXT)


async def _send_later(s: ClientSession, hold: float, fields: list[Any]) -> None:
    """A soft-throttled reply: counted as simultaneous until it is sent."""
    try:
        await asyncio.sleep(hold)
        s.send(fields)
    finally:
        s.sim.pacer.held -= 1


def head_timestamp(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    listing = s.sim.universe.resolve_one(ContractQuery.from_fields(f[2:14]))
    if listing is None:
        s.error(req_id, 200, NO_SECDEF)
        return
    head = s.sim.head_timestamp(listing)
    fmt = f[17] if len(f) > 17 else "1"
    s.send([88, req_id, str(int(head.timestamp())) if fmt == "2" else f"{head:%Y%m%d-%H:%M:%S}"])
