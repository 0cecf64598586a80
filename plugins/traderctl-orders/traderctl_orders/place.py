"""``traderctl order place``: parse, resolve, check, (dry-run | what-if | confirm), send."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import click

from traderctl.cli.app import App
from traderctl.securities import SecurityDefinition
from traderctl_orders.conditions import ConditionError, parse, symbols_of
from traderctl_orders.ticket import (
    Ticket,
    TicketError,
    build,
    decimal_option,
    order_fields,
    parse_tif,
)
from traderctl_orders.ticket import order_type as choose_type
from traderctl_orders.tws import OrderRefused


def make_ticket(symbol: str, action: str, qty: str, opts: dict[str, Any]) -> Ticket:
    """CLI options -> a validated ticket (TicketError / ConditionError otherwise)."""
    lmt, stp = decimal_option(opts["lmt"], "--lmt"), decimal_option(opts["stp"], "--stp")
    kind = choose_type(lmt, opts["mkt"], stp, opts["trail"])
    trail_amount = trail_pct = None
    if opts["trail"] is not None:
        text = opts["trail"]
        if text.endswith("%"):
            trail_pct = decimal_option(text[:-1], "--trail")
        else:
            trail_amount = decimal_option(text, "--trail")
    tif, gtd = parse_tif(opts["tif"])
    conditions = tuple(parse(text) for text in opts["when"])
    if not conditions and (opts["any"] or opts["cancel_when_met"]):
        raise TicketError("--any and --cancel-when-met need at least one --when")
    quantity = decimal_option(qty, "QTY")
    assert quantity is not None
    return Ticket(symbol.upper(), action.upper(), quantity, kind, lmt, stp, trail_amount,
                  trail_pct, tif, gtd, opts["outside_rth"], conditions, opts["any"],
                  opts["cancel_when_met"], opts["conditions_outside_rth"],
                  decimal_option(opts["take_profit"], "--take-profit"),
                  decimal_option(opts["stop_loss"], "--stop-loss"), opts["oca"] or "",
                  opts["account"] or "")


def run_place(app: App, symbol: str, action: str, qty: str, opts: dict[str, Any]) -> None:
    try:
        ticket = make_ticket(symbol, action, qty, opts)
    except (TicketError, ConditionError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(2) from None
    from traderctl_orders.tws import resolve

    try:
        # The symbols plugin runs its own event loop with signal handlers: main thread.
        secs = resolve(app.pm, app.config, [ticket.symbol, *symbols_of(list(ticket.conditions))])
        result = asyncio.run(_place(app, ticket, secs, opts))
    except OrderRefused as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(1) from None
    _print(result, opts["json"])


async def _place(app: App, t: Ticket, secs: dict[str, SecurityDefinition],
                 opts: dict[str, Any]) -> dict[str, Any]:
    from traderctl_orders.tws import connected

    async with connected(app.config) as ib:
        attempt = _Attempt(app, t, secs)
        try:
            return await attempt.run(ib, opts)
        except OrderRefused as exc:
            attempt.refused(exc)
            raise


class _Attempt:
    """One ``order place`` from the checks to IB's answer. Whatever refuses it (the account,
    the limits, the confirmation, IB) leaves an ``audit_order_refused`` record, as a sent
    order leaves ``audit_order_sent``; ``stage`` says which step refused it."""

    def __init__(self, app: App, t: Ticket, secs: dict[str, SecurityDefinition]) -> None:
        self.app, self.t, self.secs, self.sec = app, t, secs, secs[t.symbol]
        self.stage, self.account = "account", t.account
        self.notional: Decimal | None = None
        self.estimate: dict[str, Any] | None = None

    async def run(self, ib: Any, opts: dict[str, Any]) -> dict[str, Any]:
        from traderctl_orders.safety import (
            check_limits,
            choose_account,
            confirm_send,
            is_live,
            notional,
        )
        from traderctl_orders.tws import place_all, what_if

        t, sec, config = self.t, self.sec, self.app.config
        contract = sec.contract()
        self.account = choose_account(t.account, list(ib.managedAccounts()),
                                      list(config.get("orders.accounts") or []))
        self.stage = "limits"
        price = t.reference_price() or await _market_price(ib, contract)
        self.notional = notional(t.quantity, price, sec.multiplier)
        check_limits(config, t.symbol, t.quantity, price, sec.multiplier)
        orders = build(t, self.secs, self.account)
        plan: dict[str, Any] = {
            "order": t.describe(), "symbol": t.symbol, "conId": sec.con_id,
            "exchange": sec.exchange, "account": self.account, "live": is_live(self.account),
            "notional": None if self.notional is None else float(self.notional),
            "conditions": t.conditions_text, "orders": [order_fields(o) for o in orders]}
        if opts["what_if"]:
            self.stage = "what-if"
            self.estimate = plan["what_if"] = _what_if(await what_if(ib, contract, orders[0]))
        if opts["dry_run"]:
            return {"dry_run": True, "sent": False, **plan}
        self.stage = "confirmation"
        if not confirm_send(self.account, _summary(plan), opts["yes"],
                            preview=opts["what_if"]):
            return {"sent": False, **plan}
        self.stage = "tws"
        trades = await place_all(ib, contract, orders)
        placed = [_trade_row(tr) for tr in trades]
        for row in placed:
            self._record("audit_order_sent", row)
        return {"sent": True, **plan, "placed": placed}

    def _record(self, name: str, fields: dict[str, Any]) -> None:
        from traderctl_orders import audit

        extra = {"what_if": self.estimate} if self.estimate else {}
        audit.record(self.app.config, self.app.target().socket, name,
                     {**fields, "account": self.account, "conditions": self.t.conditions_text,
                      **extra})

    def refused(self, exc: OrderRefused) -> None:
        from traderctl_orders.tws import TwsRefused

        t = self.t
        base = {"stage": self.stage, "reason": str(exc), "order": t.describe(),
                "symbol": t.symbol, "action": t.action, "quantity": float(t.quantity),
                "orderType": t.order_type,
                "notional": None if self.notional is None else float(self.notional)}
        if not isinstance(exc, TwsRefused) or not exc.trades:
            code = exc.errors[0][1] if isinstance(exc, TwsRefused) else None
            self._record("audit_order_refused", {**base, "code": code})
            return
        reasons = exc.reasons()
        for trade in exc.trades:  # each order of the batch: refused, or accepted after all
            row = _trade_row(trade)
            if row["orderId"] in reasons:
                code, text = reasons[row["orderId"]]
                self._record("audit_order_refused", {**base, **row, "code": code,
                                                     "reason": f"error {code}: {text}"})
            else:
                self._record("audit_order_sent", row)


async def _market_price(ib: Any, contract: Any) -> Decimal | None:
    import math

    tickers = await ib.reqTickersAsync(contract)
    value = tickers[0].marketPrice() if tickers else math.nan
    return None if value is None or math.isnan(value) or value <= 0 else Decimal(str(value))


def _what_if(state: Any) -> dict[str, Any]:
    """IB's estimate as numbers (None where IB leaves a value unset)."""
    numbers = state.numeric(digits=4)
    keys = ("initMarginBefore", "initMarginChange", "initMarginAfter", "maintMarginBefore",
            "maintMarginChange", "maintMarginAfter", "equityWithLoanBefore",
            "equityWithLoanChange", "equityWithLoanAfter", "commission", "minCommission",
            "maxCommission")
    out: dict[str, Any] = {k: getattr(numbers, k) for k in keys}
    out["commissionCurrency"] = state.commissionCurrency or None
    out["warningText"] = state.warningText or None
    return out


def _estimate_lines(e: dict[str, Any]) -> str:
    def money(value: Any, sign: bool = False) -> str:
        return "n/a" if value is None else f"{value:{'+' if sign else ''},.2f}"

    currency = e.get("commissionCurrency") or ""
    if e.get("commission") is not None:
        fee = f"{e['commission']:,.4f} {currency}".rstrip()
    elif e.get("minCommission") is not None or e.get("maxCommission") is not None:
        fee = (f"{money(e.get('minCommission'))} to {money(e.get('maxCommission'))} "
               f"{currency}").rstrip()
    else:
        fee = "n/a"
    def change(label: str, key: str) -> str:
        return (f"{label:<15} {money(e[key + 'Before'])} {money(e[key + 'Change'], True)} "
                f"-> {money(e[key + 'After'])}")

    pad = "\n" + " " * 14
    lines = ["  what-if:    " + pad.join([change("initial margin", "initMargin"),
                                          change("maint. margin", "maintMargin"),
                                          change("equity w/ loan", "equityWithLoan"),
                                          f"{'commission':<15} {fee}"])]
    if e.get("warningText"):
        lines.append(f"              {'IB warning':<15} {e['warningText']}")
    return "\n".join(lines)


def _trade_row(trade: Any) -> dict[str, Any]:
    o = trade.order
    return {"orderId": o.orderId, "permId": trade.orderStatus.permId or o.permId,
            "parentId": o.parentId, "symbol": trade.contract.symbol, "action": o.action,
            "quantity": float(o.totalQuantity), "orderType": o.orderType,
            "status": trade.orderStatus.status}


def _summary(plan: dict[str, Any]) -> str:
    notional = "unknown" if plan["notional"] is None else f"{plan['notional']:,.2f}"
    text = (f"  order:      {plan['order']}\n  notional:   {notional}\n"
            f"  conditions: {plan['conditions'] or 'none'}")
    if "what_if" in plan:
        text += "\n" + _estimate_lines(plan["what_if"])
    return text


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, default=str, indent=2))
        return
    what_if = "what_if" in result
    if result["sent"]:
        head = "SENT after what-if" if what_if else "SENT"
    elif not what_if:
        head = "DRY RUN (nothing sent)"
    elif result.get("dry_run"):
        head = "WHAT-IF (nothing sent)"
    else:
        head = "WHAT-IF (nothing sent; --yes, or a confirmation on a terminal, sends it)"
    click.echo(f"{head}: account {result['account']}\n{_summary(result)}")
    for order in result["orders"]:
        click.echo("  ib_async Order: " + json.dumps(order, default=str))
    for row in result.get("placed", []):
        click.echo(f"  order {row['orderId']}: {row['status']}")
