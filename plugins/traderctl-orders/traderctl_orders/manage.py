"""``order list|show|cancel|modify|fills``: the orders TWS holds, in our condition syntax."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from traderctl_orders.conditions import format_all
from traderctl_orders.tws import OrderRefused, names_for, settle
from traderctl_orders.wire import from_ib

DONE = {"Filled", "Cancelled", "ApiCancelled", "Inactive"}


async def order_rows(ib: Any, trades: list[Any]) -> list[dict[str, Any]]:
    """One row per trade; conditions printed back in the ``--when`` syntax."""
    known = {t.contract.conId: t.contract.symbol for t in trades if t.contract.conId}
    con_ids = {int(c.conId) for t in trades for c in t.order.conditions if hasattr(c, "conId")}
    names = await names_for(ib, con_ids, known)
    return [_row(t, names) for t in trades]


def _price(value: Any) -> float | None:
    from ib_async.util import UNSET_DOUBLE

    return None if value in (UNSET_DOUBLE, None) else float(value)


def _row(t: Any, names: dict[int, str]) -> dict[str, Any]:
    o, s = t.order, t.orderStatus
    conds = [from_ib(c, names) for c in o.conditions]
    # Our syntax joins all by one conjunction; OR when the joining flags say so.
    any_of = len(conds) > 1 and all(c.conjunction == "o" for c in o.conditions[:-1])
    return {"orderId": o.orderId, "permId": o.permId or s.permId, "clientId": o.clientId,
            "parentId": o.parentId, "account": o.account, "symbol": t.contract.symbol,
            "action": o.action, "quantity": float(o.totalQuantity), "orderType": o.orderType,
            "lmtPrice": _price(o.lmtPrice), "auxPrice": _price(o.auxPrice), "tif": o.tif,
            "ocaGroup": o.ocaGroup, "status": s.status, "filled": float(s.filled or 0),
            "avgFillPrice": _price(s.avgFillPrice) or None,
            "conditions": format_all(conds, any_of), "any": any_of,
            "cancelWhenMet": bool(o.conditionsCancelOrder),
            "conditionsOutsideRth": bool(o.conditionsIgnoreRth)}


async def open_rows(ib: Any) -> list[dict[str, Any]]:
    trades = await ib.reqAllOpenOrdersAsync()
    return await order_rows(ib, list(trades))


def find_own(ib: Any, order_id: int) -> Any:
    """This client's open trade ``order_id`` (IB lets only the placing client change it)."""
    for trade in ib.openTrades():
        if trade.order.orderId == order_id:
            return trade
    raise OrderRefused(f"no open order {order_id} placed by this client id "
                       f"({ib.client.clientId}); see `traderctl order list`")


CANCELLED = {"Cancelled", "ApiCancelled"}
CANCEL_NEWS = {202}  # "Order Canceled - reason:": the cancel's confirmation


async def cancel(ib: Any, order_ids: list[int]) -> list[dict[str, Any]]:
    """Cancel this client's orders; a row per order with IB's refusal (``error``) if any."""
    trades = [find_own(ib, i) for i in order_ids]
    ids = {t.order.orderId for t in trades}
    errors: dict[int, str] = {}

    def on_error(req_id: int, code: int, text: str, *_: Any) -> None:
        if req_id in ids and code not in CANCEL_NEWS and not 2100 <= code < 2200:
            errors.setdefault(req_id, f"error {code}: {text}")

    ib.errorEvent += on_error
    try:
        for trade in trades:
            ib.cancelOrder(trade.order)
        await _until_answered(trades, errors)
    finally:
        ib.errorEvent -= on_error
    return [_cancel_row(t, errors.get(t.order.orderId)) for t in trades]


async def _until_answered(trades: list[Any], errors: dict[int, str]) -> None:
    import asyncio

    from traderctl_orders.tws import ANSWER_SECONDS

    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_SECONDS
    while loop.time() < deadline and not all(
            t.orderStatus.status in DONE or t.order.orderId in errors for t in trades):
        await asyncio.sleep(0.05)


def _cancel_row(t: Any, error: str | None) -> dict[str, Any]:
    row = {"orderId": t.order.orderId, "clientId": t.order.clientId,
           "symbol": t.contract.symbol, "status": t.orderStatus.status}
    if t.orderStatus.status not in CANCELLED:
        row["error"] = error or (f"still {t.orderStatus.status or 'unknown'} after "
                                 "the cancel request")
    return row


async def cancel_all(ib: Any) -> list[dict[str, Any]]:
    before = list(await ib.reqAllOpenOrdersAsync())
    ib.reqGlobalCancel()
    await settle(before, done=DONE)
    return [_cancel_row(t, None) for t in before]


class Modification:
    """``order modify``: the order found, checked (limit price, limits, a live account's
    confirmation) and re-sent. Sent: ``audit_order_modified``; refused before sending or
    by IB: ``audit_order_refused`` with the ``stage`` that refused it."""

    def __init__(self, app: Any, order_id: int, lmt: Decimal | None, qty: Decimal | None,
                 yes: bool) -> None:
        self.app, self.order_id, self.lmt, self.qty, self.yes = app, order_id, lmt, qty, yes
        self.stage, self.fields = "order", {"orderId": order_id, "action": "modify"}

    async def run(self, ib: Any) -> dict[str, Any]:
        try:
            row = await self._run(ib)
        except OrderRefused as exc:
            self._record("audit_order_refused", {**self.fields, "stage": self.stage,
                                                 "reason": str(exc)})
            raise
        self._record("audit_order_modified", row)
        return row

    def _record(self, name: str, fields: dict[str, Any]) -> None:
        from traderctl_orders import audit

        audit.record(self.app.config, self.app.target().socket, name, fields)

    async def _run(self, ib: Any) -> dict[str, Any]:
        from traderctl_orders.safety import check_limits, confirm_send
        from traderctl_orders.tws import place_all

        trade = find_own(ib, self.order_id)
        order, contract = trade.order, trade.contract
        changes: dict[str, Any] = {}
        if self.lmt is not None:
            if _price(order.lmtPrice) is None:
                raise OrderRefused(f"order {self.order_id} is {order.orderType}: it has no "
                                   "limit price to change; nothing sent")
            changes["lmtPrice"] = {"from": _price(order.lmtPrice), "to": float(self.lmt)}
        if self.qty is not None:
            changes["quantity"] = {"from": float(order.totalQuantity), "to": float(self.qty)}
        self.fields.update(symbol=contract.symbol, account=order.account, changes=changes)
        self.stage = "limits"
        quantity = self.qty if self.qty is not None else Decimal(str(order.totalQuantity))
        price = self.lmt if self.lmt is not None else order_price(order)
        multiplier = float(contract.multiplier) if contract.multiplier else None
        check_limits(self.app.config, contract.symbol, quantity, price, multiplier)
        self.stage = "confirmation"
        summary = "\n".join(f"  {name}: {change['from']:g} -> {change['to']:g}"
                            for name, change in changes.items())
        confirm_send(order.account, f"  modify order {self.order_id} "
                     f"({order.action} {contract.symbol} {order.orderType})\n{summary}",
                     self.yes)
        self.stage = "tws"
        if self.lmt is not None:
            order.lmtPrice = float(self.lmt)
        if self.qty is not None:
            order.totalQuantity = float(self.qty)
        await place_all(ib, contract, [order], keep_ids=True)
        return {"orderId": self.order_id, "symbol": contract.symbol,
                "status": trade.orderStatus.status, "changes": changes}


def parse_since(text: str | None) -> datetime | None:
    """``--since``: an ISO date/time (no zone: UTC) or a duration back from now (``2h``)."""
    if not text:
        return None
    from traderctl.durations import parse_duration

    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OrderRefused(f"--since: not a time or duration: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def fills(ib: Any, since: datetime | None) -> list[dict[str, Any]]:
    from ib_async import ExecutionFilter

    flt = ExecutionFilter(time=f"{since:%Y%m%d-%H:%M:%S}") if since else ExecutionFilter()
    rows = []
    for fill in await ib.reqExecutionsAsync(flt):
        ex, cr = fill.execution, fill.commissionReport
        when = fill.time if fill.time.tzinfo else fill.time.replace(tzinfo=UTC)
        if since and when < since:
            continue
        rows.append({"time": when.astimezone(UTC).isoformat(), "orderId": ex.orderId,
                     "permId": ex.permId, "execId": ex.execId, "account": ex.acctNumber,
                     "symbol": fill.contract.symbol, "side": ex.side, "shares": float(ex.shares),
                     "price": float(ex.price), "commission": cr.commission or None,
                     "currency": cr.currency or None})
    return rows


def order_price(order: Any) -> Decimal | None:
    """The price a limit check uses for an existing order (limit, else stop)."""
    for value in (order.lmtPrice, order.auxPrice):
        price = _price(value)
        if price:
            return Decimal(str(price))
    return None
