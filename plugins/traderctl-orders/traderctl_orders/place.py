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
from traderctl_orders.ticket import Ticket, TicketError, build, decimal_option, order_fields
from traderctl_orders.ticket import order_type as choose_type
from traderctl_orders.tws import OrderRefused

TIFS = ("DAY", "GTC", "IOC", "GTD")


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
    tif, gtd = opts["tif"][0].upper(), " ".join(opts["tif"][1:])
    if tif not in TIFS or (tif == "GTD") != bool(gtd):
        raise TicketError("--tif: DAY, GTC, IOC, or GTD 'YYYYMMDD HH:MM:SS ZONE'")
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
    from traderctl_orders import audit
    from traderctl_orders.safety import check_limits, choose_account, confirm_live, is_live
    from traderctl_orders.tws import connected, place_all

    config = app.config
    sec = secs[t.symbol]
    contract = sec.contract()
    async with connected(config) as ib:
        account = choose_account(t.account, list(ib.managedAccounts()),
                                 list(config.get("orders.accounts") or []))
        price = t.reference_price() or await _market_price(ib, contract)
        notional = check_limits(config, t.symbol, t.quantity, price, sec.multiplier)
        orders = build(t, secs, account)
        plan = {"order": t.describe(), "symbol": t.symbol, "conId": sec.con_id,
                "exchange": sec.exchange, "account": account, "live": is_live(account),
                "notional": None if notional is None else float(notional),
                "conditions": t.conditions_text, "orders": [order_fields(o) for o in orders]}
        if opts["dry_run"]:
            return {"dry_run": True, **plan}
        if opts["what_if"]:
            state = await ib.whatIfOrderAsync(contract, orders[0])
            return {"what_if": _what_if(state), **plan}
        confirm_live(account, _summary(plan), opts["yes"])
        trades = await place_all(ib, contract, orders)
        placed = [_trade_row(tr) for tr in trades]
        for row in placed:
            audit.record(config, app.target().socket, "audit_order_sent",
                         {**row, "account": account, "conditions": t.conditions_text})
        return {**plan, "placed": placed}


async def _market_price(ib: Any, contract: Any) -> Decimal | None:
    import math

    tickers = await ib.reqTickersAsync(contract)
    value = tickers[0].marketPrice() if tickers else math.nan
    return None if value is None or math.isnan(value) or value <= 0 else Decimal(str(value))


def _what_if(state: Any) -> dict[str, Any]:
    keys = ("initMarginBefore", "initMarginChange", "initMarginAfter", "maintMarginBefore",
            "maintMarginChange", "maintMarginAfter", "equityWithLoanChange", "commission",
            "minCommission", "maxCommission", "commissionCurrency", "warningText")
    return {k: getattr(state, k, None) for k in keys} if state else {}


def _trade_row(trade: Any) -> dict[str, Any]:
    o = trade.order
    return {"orderId": o.orderId, "permId": trade.orderStatus.permId or o.permId,
            "parentId": o.parentId, "symbol": trade.contract.symbol, "action": o.action,
            "quantity": float(o.totalQuantity), "orderType": o.orderType,
            "status": trade.orderStatus.status}


def _summary(plan: dict[str, Any]) -> str:
    notional = "unknown" if plan["notional"] is None else f"{plan['notional']:,.2f}"
    return (f"  order:      {plan['order']}\n  notional:   {notional}\n"
            f"  conditions: {plan['conditions'] or 'none'}")


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, default=str, indent=2))
        return
    head = ("DRY RUN (nothing sent)" if result.get("dry_run")
            else "WHAT-IF (nothing sent)" if "what_if" in result else "SENT")
    click.echo(f"{head}: account {result['account']}\n{_summary(result)}")
    for order in result["orders"]:
        click.echo("  ib_async Order: " + json.dumps(order, default=str))
    if "what_if" in result:
        for key, value in result["what_if"].items():
            click.echo(f"  {key}: {value}")
    for row in result.get("placed", []):
        click.echo(f"  order {row['orderId']}: {row['status']}")
