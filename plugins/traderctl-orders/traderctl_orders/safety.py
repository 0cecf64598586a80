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


def notional(quantity: Decimal, price: Decimal | None, multiplier: float | None
             ) -> Decimal | None:
    """quantity x price x multiplier, None without a price."""
    return None if price is None else quantity * price * Decimal(str(multiplier or 1))


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
    value = notional(quantity, price, multiplier)
    if max_notional is not None:
        if value is None:
            raise OrderRefused(f"no price known for {symbol} to check {where}.max_notional "
                               f"{max_notional:g}; nothing sent")
        if value > Decimal(str(max_notional)):
            raise OrderRefused(f"notional {value:f} exceeds {where}.max_notional "
                               f"{max_notional:g}; nothing sent")
    return value


def confirm_send(account: str, summary: str, yes: bool, preview: bool = False) -> bool:
    """Whether to send; refuses (:class:`OrderRefused`) when the operator said no.

    A live account needs ``--yes`` or a confirmation typed at a terminal; without a
    terminal and without ``--yes`` it refuses. ``preview`` (``--what-if``: IB's estimate
    is in ``summary``) asks on any account, since the operator asked to see the estimate
    before sending; ``--yes`` sends it, and without a terminal and without ``--yes``
    nothing is sent and nothing is refused: the estimate was the answer (False).
    """
    import click

    live = is_live(account)
    if yes or not (live or preview):
        return True
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        if preview:
            return False
        raise OrderRefused(f"account {account} is a live account: pass --yes to send "
                           "without a terminal; nothing sent")
    kind = "LIVE account" if live else "paper account"
    click.echo(f"{kind} {account}:\n{summary}", err=True)
    try:
        confirmed = click.confirm("Send this order?", default=False, err=True)
    except click.Abort:  # Ctrl-C or end of input at the prompt
        raise OrderRefused("not confirmed (aborted); nothing sent") from None
    if not confirmed:
        raise OrderRefused("not confirmed; nothing sent")
    return True
