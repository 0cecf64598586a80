"""Checks made before anything is sent: limits, the account, a live account's confirmation."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from traderctl_orders.tws import OrderRefused


def is_live(account: str) -> bool:
    """IB's paper accounts start with D (DU..., DF...); everything else is real money."""
    return not account.upper().startswith("D")


def choose_account(wanted: str, managed: list[str], allowed: list[str]) -> str:
    """The account the order goes to; refused when not managed or not allow-listed."""
    account = wanted or (managed[0] if len(managed) == 1 else "")
    if not account:
        raise OrderRefused(f"several managed accounts ({', '.join(managed)}): "
                           "choose one with --account")
    if account not in managed:
        raise OrderRefused(f"account {account} is not managed by this TWS login "
                           f"(managed: {', '.join(managed) or 'none'})")
    if allowed and account not in allowed:
        raise OrderRefused(f"account {account} is not in orders.accounts "
                           f"({', '.join(allowed)})")
    return account


def check_limits(config: Any, symbol: str, quantity: Decimal, price: Decimal | None,
                 multiplier: float | None) -> Decimal | None:
    """Refuse an order over ``orders.max_quantity`` / ``orders.max_notional`` (the
    symbol's own limits in ``orders.symbols`` win); returns the notional when known."""
    own = (config.get("orders.symbols") or {}).get(symbol) or {}
    max_qty = own.get("max_quantity", config.get("orders.max_quantity"))
    max_notional = own.get("max_notional", config.get("orders.max_notional"))
    where = f"orders.symbols.{symbol}" if own else "orders"
    if max_qty is not None and quantity > Decimal(str(max_qty)):
        raise OrderRefused(f"quantity {quantity} exceeds {where}.max_quantity {max_qty:g}; "
                           "nothing sent")
    notional = None if price is None else quantity * price * Decimal(str(multiplier or 1))
    if max_notional is not None:
        if notional is None:
            raise OrderRefused(f"no price known for {symbol} to check {where}.max_notional "
                               f"{max_notional:g}; nothing sent")
        if notional > Decimal(str(max_notional)):
            raise OrderRefused(f"notional {notional:f} exceeds {where}.max_notional "
                               f"{max_notional:g}; nothing sent")
    return notional


def confirm_live(account: str, summary: str, yes: bool) -> None:
    """A live account needs --yes or a confirmation typed at a terminal."""
    import click

    if not is_live(account) or yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise OrderRefused(f"account {account} is a live account: pass --yes to send "
                           "without a terminal; nothing sent")
    click.echo(f"LIVE account {account}:\n{summary}", err=True)
    if not click.confirm("Send this order?", default=False, err=True):
        raise OrderRefused("not confirmed; nothing sent")
