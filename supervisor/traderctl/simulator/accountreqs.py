"""Account and order-list requests of one session: positions, account values, orders.

reqPositions (61) / cancelPositions (64), reqAccountUpdates (6),
reqAccountUpdatesMulti (76), reqAccountSummary (62), reqExecutions (7),
reqOpenOrders (5), reqAllOpenOrders (16) and reqCompletedOrders (99). Each
function takes the :class:`~traderctl.simulator.session.ClientSession`
that received the request; the rows come from :mod:`.account`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import account, orders
from .clock import utcnow
from .openorder import COMPLETED_ORDERS_END, OPEN_ORDER_END

if TYPE_CHECKING:
    from .session import ClientSession


def positions(s: ClientSession, f: list[str]) -> None:
    s.positions_subscribed = True
    _send_rows(s, account.position_rows(s.sim.book))


def cancel_positions(s: ClientSession, f: list[str]) -> None:
    s.positions_subscribed = False


def open_orders(s: ClientSession, f: list[str]) -> None:
    _send_open_orders(s, only_mine=True)


def all_open_orders(s: ClientSession, f: list[str]) -> None:
    _send_open_orders(s, only_mine=False)


def _send_open_orders(s: ClientSession, only_mine: bool) -> None:
    for rec in s.sim.live_orders():
        if not only_mine or rec.client_id == s.client_id:
            s.send(s.sim.open_order_fields(rec, s.version))
            s.send(orders.order_status(rec))
    s.send([OPEN_ORDER_END, 1])


def completed_orders(s: ClientSession, f: list[str]) -> None:
    # apiOnly (f[1]) changes nothing: every order here came through the API
    for rec in s.sim.orders:
        if rec.is_done and rec.status != "PendingSubmit":
            s.send(s.sim.order_book.completed_fields(rec, s.version))
    s.send([COMPLETED_ORDERS_END])


def account_updates(s: ClientSession, f: list[str]) -> None:
    subscribe = len(f) > 2 and f[2] not in ("", "0")
    acct = f[3] if len(f) > 3 and f[3] else s.sim.book.accounts[0]
    s.account_updates = acct if subscribe else None
    if subscribe:
        s.account_values_sent = {k: v for k, (v, _) in s.sim.book.all_values().items()}
        _send_rows(
            s, account.account_update_rows(s.sim.book, acct, s.sim.last_price, utcnow(), s.sim.tz)
        )


def account_updates_multi(s: ClientSession, f: list[str]) -> None:
    acct = f[3] if len(f) > 3 and f[3] else s.sim.book.accounts[0]
    _send_rows(s, account.account_multi_rows(s.sim.book, int(f[2]), acct))


def account_summary(s: ClientSession, f: list[str]) -> None:
    tags = f[4] if len(f) > 4 else "All"
    _send_rows(s, account.account_summary_rows(s.sim.book, int(f[2]), tags))


def executions(s: ClientSession, f: list[str]) -> None:
    _send_rows(s, account.execution_rows(s.sim.book, int(f[2]), s.sim.tz, s.version))


def _send_rows(s: ClientSession, rows: list[list[Any]]) -> None:
    for row in rows:
        s.send(row)
