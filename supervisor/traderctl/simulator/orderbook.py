"""The order book: placeOrder, modification, cancel, what-if and conditional release.

One :class:`OrderBook` per simulator holds every order any client placed,
keyed by (clientId, orderId) as TWS keys them. Replies go to the session
that owns the order (``owner``), since TWS reports an order's status to the
client that placed it. Conditional orders wait as PreSubmitted;
:meth:`OrderBook.watch_conditions` releases them when their conditions hold
on the simulated market.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import ledger, orders
from ._log import get_logger
from .account import AccountBook
from .clock import format_bar_time, utcnow
from .conditions import ConditionContext, conditions_met
from .market import Market
from .matching import Matcher
from .openorder import completed_order, open_order, open_order_parts
from .universe import Listing, Universe

if TYPE_CHECKING:
    from .session import ClientSession

log = get_logger(__name__)

CONDITION_POLL = 0.2
NO_SECDEF = "No security definition has been found for the request"
MISSING_EXCHANGE = "Error validating request.-'bN' : cause - Missing order exchange"


class OrderBook:
    """Every order of the simulated login, and what happens to it."""

    def __init__(
        self,
        universe: Universe,
        account: AccountBook,
        market: Market,
        owner: Callable[[int], ClientSession | None],
        tz_name: str,
        next_order_id: int,
    ) -> None:
        self.universe = universe
        self.account = account
        self.market = market
        self.model_for = market.model_for
        self.matcher = Matcher(self, market, market.interval)
        self.publish_account: Callable[[str, Listing], None] = lambda account, listing: None
        self.owner = owner
        self.tz_name = tz_name
        self.next_order_id = next_order_id
        self.orders: list[orders.OrderRecord] = []
        self._live: dict[int, orders.OrderRecord] = {}
        self._by_key: dict[tuple[int, int], orders.OrderRecord] = {}
        self._groups: dict[tuple[int, str, str], list[orders.OrderRecord]] = {}
        self._perm_ids = itertools.count(1_800_000_001)
        # during a matching pass: groups of type 3 to rebalance when the pass ends
        self.deferred: set[tuple[int, str, str]] | None = None

    def live(self) -> list[orders.OrderRecord]:
        """Orders not done yet, in placement order (from an index pruned as orders finish:
        the matcher and the condition monitor ask every pass, ``orders`` keeps everything)."""
        done = [k for k, r in self._live.items() if r.is_done]
        for k in done:
            del self._live[k]
        return list(self._live.values())

    def find(self, order_id: int, client_id: int | None = None) -> orders.OrderRecord | None:
        """A live order by id (any client when ``client_id`` is None)."""
        for rec in self.live():
            if rec.order_id == order_id and (client_id is None or rec.client_id == client_id):
                return rec
        return None

    def open_order_fields(
        self, rec: orders.OrderRecord, version: int, what_if: dict[str, str] | None = None
    ) -> list[Any]:
        return open_order(rec, self._listing_fields(rec), version, what_if)

    def open_order_frame(self, rec: orders.OrderRecord, version: int) -> bytes:
        """openOrder for ``rec`` as a framed message, from its cached parts."""
        parts = rec.wire.get(version)
        if parts is None:
            parts = rec.wire[version] = open_order_parts(rec, self._listing_fields(rec), version)
        payload = b"%s%s\x00%s" % (parts[0], rec.status.encode(), parts[1])
        return struct.pack(">I", len(payload)) + payload

    def completed_fields(self, rec: orders.OrderRecord, version: int) -> list[Any]:
        done = rec.done_at or rec.received_at
        stamp = format_bar_time(done, self.tz_name)
        return completed_order(rec, self._listing_fields(rec), version, stamp)

    def _listing_fields(self, rec: orders.OrderRecord) -> dict[str, Any]:
        lst = self.universe.get(rec.con_id)
        c = rec.contract
        if lst is None:
            names = (c.con_id, c.symbol, c.sec_type, c.exchange, c.currency)
            tail = (c.local_symbol, c.trading_class)
        else:
            names = (lst.con_id, lst.symbol, lst.sec_type, lst.exchange, lst.currency)
            tail = (lst.local_symbol, lst.trading_class)
        keys = ("conId", "symbol", "secType", "exchange", "currency", "localSymbol", "tradingClass")
        return dict(zip(keys, (*names, *tail), strict=True))

    # ---- placing and cancelling -------------------------------------------------------

    def place(self, session: ClientSession, fields: list[str]) -> None:
        """Handle one placeOrder message from ``session``."""
        decoded = orders.decode_place_order(fields, session.version)
        client_id = session.client_id or 0
        key = (client_id, decoded.order_id)
        existing = self._by_key.get(key)
        if existing is not None and existing.is_done:
            session.error(decoded.order_id, 103, "Duplicate order id")
            return
        listing = self.universe.resolve_one(decoded.contract)
        rec = orders.OrderRecord.from_decoded(
            decoded,
            client_id=client_id,
            perm_id=existing.perm_id if existing else next(self._perm_ids),
            received_at=utcnow(),
            raw_fields=list(fields),
            con_id=listing.con_id if listing else 0,
        )
        self.orders.append(rec)
        self._live[id(rec)] = rec
        self.next_order_id = max(self.next_order_id, rec.order_id + 1)
        _log_received(rec, modify=existing is not None)
        if not decoded.contract.exchange:  # TWS validates the route before the contract
            rec.set_status("Inactive")
            session.error(rec.order_id, 321, MISSING_EXCHANGE)
            return
        if listing is None:
            rec.set_status("Cancelled")
            session.error(rec.order_id, 200, NO_SECDEF)
            return
        if existing is not None:
            self.orders.remove(existing)
            self._live.pop(id(existing), None)
            rec.carry_fills(existing)
        self._by_key[key] = rec
        for group in self._group_keys(rec):
            members = self._groups.setdefault(group, [])
            members[:] = [m for m in members if m.key != rec.key] + [rec]
        if rec.order.get("whatIf") in ("1", "True"):
            self._answer_what_if(session, rec, listing)
            return
        if not rec.transmitted:
            return  # held in TWS until a transmitted child of the same bracket arrives
        self.activate(rec)

    def activate(self, rec: orders.OrderRecord) -> None:
        """Send a transmitted order to the market (its held bracket parent first)."""
        parent = self.parent(rec)
        if parent is not None and parent.status == "PendingSubmit":
            self.activate(parent)
            for sibling in self.children(parent):
                if sibling is not rec and sibling.status == "PendingSubmit":
                    self.activate(sibling)
        waiting = parent is not None and parent.status != "Filled"
        rec.set_status("PreSubmitted" if rec.conditions or waiting else "Submitted")
        self.notify(rec)
        if rec.status == "Submitted":
            self.matcher.arrive(rec)

    def parent(self, rec: orders.OrderRecord) -> orders.OrderRecord | None:
        return self._by_key.get((rec.client_id, rec.parent_id)) if rec.parent_id else None

    def children(self, rec: orders.OrderRecord) -> list[orders.OrderRecord]:
        kids = self._groups.get((rec.client_id, "parent", str(rec.order_id)), [])
        return [r for r in kids if r is not rec and self._by_key.get(r.key) is r]

    def _group_keys(self, rec: orders.OrderRecord) -> list[tuple[int, str, str]]:
        """The groups ``rec`` belongs to: its bracket (by parent id) and its OCA group."""
        keys = []
        if rec.parent_id:
            keys.append((rec.client_id, "parent", str(rec.parent_id)))
        if rec.order.get("ocaGroup"):
            keys.append((rec.client_id, "oca", rec.order["ocaGroup"]))
        return keys

    def after_execution(self, rec: orders.OrderRecord) -> None:
        """After a fill of ``rec``: a filled parent's children go live, its groups react.

        An OCA group (``ocaGroup``) follows its ``ocaType``: 1 (and 0) cancels
        every other member on any execution; 2 and 3 reduce the others in
        proportion (:meth:`rebalance`). The children of one bracket parent are
        one group that reduces, as IB runs them. Types 1 and 2 and brackets
        block: at most one member executes per matching pass. Type 3 does not:
        members that cross in the same pass all execute before the reduction,
        which can overfill the group, the risk IB describes for it.
        """
        if rec.status == "Filled":
            for child in self.children(rec):
                if child.status == "PreSubmitted" and not child.conditions:
                    child.set_status("Submitted")
                    self.notify(child)
                    self.matcher.arrive(child)
        for key in self._group_keys(rec):
            if not self._reduces(key, rec):
                for other in self.members(key):
                    if other is not rec and not other.is_done:
                        self._cancel_member(other, rec)
            elif self.deferred is not None and not self.blocks(key, rec):
                self.deferred.add(key)
            else:
                self.rebalance(key)

    def members(self, key: tuple[int, str, str]) -> list[orders.OrderRecord]:
        """The current records of a group (a modified order replaces its old record)."""
        return [m for m in self._groups.get(key, []) if self._by_key.get(m.key) is m]

    def _reduces(self, key: tuple[int, str, str], rec: orders.OrderRecord) -> bool:
        return key[1] == "parent" or rec.oca_type in (2, 3)

    def blocks(self, key: tuple[int, str, str], rec: orders.OrderRecord) -> bool:
        """Whether the group lets only one member execute per matching pass."""
        return key[1] == "parent" or rec.oca_type != 3

    def blocking_groups(self, rec: orders.OrderRecord) -> set[tuple[int, str, str]]:
        return {key for key in self._group_keys(rec) if self.blocks(key, rec)}

    def rebalance(self, key: tuple[int, str, str]) -> None:
        """Reduce every live member to its share of what the group still has to do.

        Each member stands for the whole objective, so the group is done by
        the sum of filled/placed over its members; a member may keep
        ``placed * (1 - done)`` (whole shares for whole-share orders). One
        reduced to nothing is cancelled.
        """
        group = self.members(key)
        done = sum(m.filled / placed for m in group if (placed := _placed(m)) > 0)
        for member in group:
            if member.is_done:
                continue
            keep = max(0.0, _placed(member) * (1.0 - done))
            if _placed(member).is_integer():
                keep = float(math.floor(keep + 1e-9))
            if keep >= member.remaining:
                continue
            if keep <= 0:
                self._cancel_member(member, None)
                continue
            member.reduce_to(member.filled + keep)
            log.info(
                "sim_tws_oca_reduced",
                order_id=member.order_id,
                remaining=keep,
                group=key[2],
            )
            self.notify(member)

    def _cancel_member(self, other: orders.OrderRecord, by: orders.OrderRecord | None) -> None:
        other.set_status("Cancelled")
        log.info(
            "sim_tws_oca_cancelled", order_id=other.order_id, by=by.order_id if by else None
        )
        self.notify(other)

    def _answer_what_if(
        self, session: ClientSession, rec: orders.OrderRecord, listing: Listing
    ) -> None:
        """whatIf: margin impact only; the order is not kept."""
        rec.set_status("PreSubmitted")
        self.orders.remove(rec)
        self._live.pop(id(rec), None)
        del self._by_key[(rec.client_id, rec.order_id)]
        price = self.market.price(listing, utcnow().timestamp())
        buy = rec.order.get("action", "").upper() == "BUY"
        held = sum(p.position for p in self.account.positions if p.listing.con_id == listing.con_id)
        after = held + (rec.total_quantity if buy else -rec.total_quantity)
        change = ledger.margin(listing, after, price) - ledger.margin(listing, held, price)
        fee = ledger.commission(listing, rec.total_quantity, price, "BOT" if buy else "SLD", True)
        values = self.account.all_values()
        init = float(values["InitMarginReq"][0] or 0)
        maint = float(values["MaintMarginReq"][0] or 0)
        eq = float(values["EquityWithLoanValue"][0] or 0)
        what_if = {
            "initMarginBefore": f"{init:.2f}",
            "maintMarginBefore": f"{maint:.2f}",
            "equityWithLoanBefore": f"{eq:.2f}",
            "initMarginChange": f"{change:.2f}",
            "maintMarginChange": f"{change:.2f}",
            "equityWithLoanChange": f"{-fee:.2f}",
            "initMarginAfter": f"{init + change:.2f}",
            "maintMarginAfter": f"{maint + change:.2f}",
            "equityWithLoanAfter": f"{eq - fee:.2f}",
            "commission": f"{fee:.4f}",
            "commissionCurrency": listing.currency,
        }
        session.send(self.open_order_fields(rec, session.version, what_if))

    def cancel(self, session: ClientSession, order_id: int, client_id: int | None = None) -> None:
        """cancelOrder: 10147 for an unknown or finished order, else Cancelled + 202."""
        owner_id = session.client_id if client_id is None else client_id
        rec = self._by_key.get((owner_id or 0, order_id))
        if rec is None or rec.is_done:
            session.error(
                order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
            )
            return
        rec.set_status("Cancelled")
        log.info("sim_tws_order_cancelled", client_id=rec.client_id, order_id=order_id)
        self.notify(rec)
        owner = self.owner(rec.client_id)
        if owner is not None:
            owner.error(order_id, 202, "Order Canceled - reason:")

    def notify(self, rec: orders.OrderRecord) -> None:
        """openOrder + orderStatus to the client that owns the order."""
        owner = self.owner(rec.client_id)
        if owner is not None:
            owner.send_raw(self.open_order_frame(rec, owner.version))
            owner.send(orders.order_status(rec))

    # ---- conditions -------------------------------------------------------------------

    async def watch_conditions(self) -> None:
        """Release conditional orders whose conditions have become true."""
        while True:
            await asyncio.sleep(CONDITION_POLL)
            pending = [r for r in self.live() if r.status == "PreSubmitted" and r.conditions]
            if pending:
                self.check_conditions(pending)

    def check_conditions(self, pending: list[orders.OrderRecord]) -> None:
        now = utcnow()
        ctx = ConditionContext(
            now,
            self.tz_name,
            self.market,
            self.universe.get,
            float(self.account.value("Cushion") or 1),
            self.account.executions,
        )
        for rec in pending:
            listing = self.universe.get(rec.con_id)
            if (
                not rec.conditions_ignore_rth
                and listing
                and not listing.calendar.is_open(now, rth=True)
            ):
                continue
            ctx.since = rec.received_at
            if conditions_met(rec.conditions, ctx):
                self.release(rec)

    def release(self, rec: orders.OrderRecord) -> None:
        rec.set_status("Cancelled" if rec.conditions_cancel_order else "Submitted")
        log.info(
            "sim_tws_conditions_met",
            order_id=rec.order_id,
            client_id=rec.client_id,
            status=rec.status,
        )
        self.notify(rec)
        if rec.status == "Submitted":
            self.matcher.arrive(rec)


def _log_received(rec: orders.OrderRecord, modify: bool) -> None:
    log.info(
        "sim_tws_order_received",
        client_id=rec.client_id,
        order_id=rec.order_id,
        perm_id=rec.perm_id,
        action=rec.order.get("action"),
        quantity=rec.order.get("totalQuantity"),
        order_type=rec.order.get("orderType"),
        conditions=len(rec.conditions),
        modify=modify,
    )


def _placed(rec: orders.OrderRecord) -> float:
    return rec.placed_quantity or rec.total_quantity
