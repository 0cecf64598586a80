"""The matching engine: working orders fill against the simulated quote.

Rules (a simulation of an exchange touch, not of a real order book):

* MKT buys at the ask, sells at the bid; LMT fills when the touch crosses
  the limit, at the touch (so a marketable limit gets the better price);
  STP becomes a market order once the last price trades through ``auxPrice``
  (buy: last >= stop, sell: last <= stop), STP LMT becomes a limit order at
  ``lmtPrice``. Other order types rest (Submitted) and never fill.
* Nothing fills while the listing is halted or outside its trading hours;
  outside regular hours only orders with ``outsideRth`` fill.
* Each pass fills at most ``market.depth`` shares (scenario ``market.depth``),
  so larger orders fill partially over several passes.
* A fill sends execDetails, orderStatus (filled/remaining/avgFillPrice),
  openOrder and commissionReport to the owning client, adds its shares to the
  listing's volume of the day, books the fill in the account
  (:mod:`.ledger`), activates bracket children of a filled parent
  and cancels the rest of an OCA group (``ocaGroup``, and the children of
  one parent, which IB treats as one OCA group) once one member is filled.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import account, ledger
from ._log import get_logger
from .market import Market
from .orders import OrderRecord, order_status
from .universe import Listing

if TYPE_CHECKING:
    from .orderbook import OrderBook

log = get_logger(__name__)


@dataclass(frozen=True)
class Touch:
    bid: float
    ask: float
    last: float


class Matcher:
    """Fills working orders; called on placement and every ``interval`` seconds."""

    def __init__(self, book: OrderBook, market: Market, interval: float) -> None:
        self.book = book
        self.market = market
        self.interval = interval
        self._exec_ids = itertools.count(1)
        self.fills = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.match_all()

    def match_all(self) -> None:
        for rec in [r for r in self.book.orders if r.status == "Submitted"]:
            self.match(rec)

    def match(self, rec: OrderRecord) -> None:
        """Fill ``rec`` as far as the quote and the depth allow."""
        listing = self.book.universe.get(rec.con_id)
        if listing is None or rec.status != "Submitted" or rec.remaining <= 0:
            return
        ts = datetime.now(UTC).timestamp()
        if not self._may_trade(rec, listing, ts):
            return
        touch = self._touch(listing, ts)
        price = self._fill_price(rec, touch)
        if price is None:
            return
        qty = min(rec.remaining, self.market.depth)
        self._fill(rec, listing, qty, price, takes=self._takes(rec))

    def _may_trade(self, rec: OrderRecord, listing: Listing, ts: float) -> bool:
        if self.market.halted(listing) or not self.market.trading_at(listing, ts):
            return False
        if self.market.always_open or rec.order.get("outsideRth") in ("1", "True"):
            return True
        return listing.calendar.is_open(datetime.fromtimestamp(ts, UTC), rth=True)

    def _touch(self, listing: Listing, ts: float) -> Touch:
        last = self.market.price(listing, ts)
        model = self.market.model_for(listing)
        spread = model.half_spread(ts)
        return Touch(model.round(last - spread), model.round(last + spread), last)

    def _fill_price(self, rec: OrderRecord, t: Touch) -> float | None:
        """The price this pass fills at, or None if the order does not trade now."""
        kind = rec.order.get("orderType", "").upper()
        buy = rec.order.get("action", "").upper() == "BUY"
        touch = t.ask if buy else t.bid
        if kind in ("STP", "STP LMT"):
            stop = _num(rec.order.get("auxPrice"))
            if stop is None:
                return None
            if not rec.stop_triggered and (t.last >= stop if buy else t.last <= stop):
                rec.stop_triggered = True
                log.info("sim_tws_stop_triggered", order_id=rec.order_id, last=t.last, stop=stop)
            if not rec.stop_triggered:
                return None
            kind = "MKT" if kind == "STP" else "LMT"
        if kind == "MKT":
            return touch
        if kind == "LMT":
            limit = _num(rec.order.get("lmtPrice"))
            if limit is None:
                return None
            return touch if (touch <= limit if buy else touch >= limit) else None
        return None

    def _takes(self, rec: OrderRecord) -> bool:
        """Taking liquidity: market orders and limits that crossed on arrival."""
        return rec.order.get("orderType", "").upper() in ("MKT", "STP") or rec.filled == 0

    def _fill(
        self, rec: OrderRecord, listing: Listing, qty: float, price: float, takes: bool
    ) -> None:
        side = "BOT" if rec.order.get("action", "").upper() == "BUY" else "SLD"
        fee = ledger.commission(listing, qty, price, side, takes)
        acct = rec.order.get("account") or self.book.account.accounts[0]
        signed = qty if side == "BOT" else -qty
        realized = ledger.apply_fill(self.book.account, acct, listing, signed, price, fee)
        rec.avg_fill_price = (rec.avg_fill_price * rec.filled + price * qty) / (rec.filled + qty)
        rec.filled += qty
        rec.last_fill_price = price
        if rec.remaining <= 0:
            rec.set_status("Filled")
        execution = account.Execution(
            exec_id=f"0000f1d5.{next(self._exec_ids) + 0x6800000:08x}.01.01",
            order_id=rec.order_id,
            perm_id=rec.perm_id,
            client_id=rec.client_id,
            account=acct,
            listing=listing,
            side=side,
            shares=qty,
            price=price,
            time=datetime.now(UTC),
            exchange=listing.primary_exchange or listing.exchange,
            commission=fee,
            realized=realized,
            cum_qty=rec.filled,
            avg_price=rec.avg_fill_price,
        )
        self.book.account.executions.append(execution)
        self.market.add_volume(listing, qty, execution.time.timestamp())
        self.fills += 1
        self._report(rec, execution)
        self.book.publish_account(acct, listing)
        if rec.status == "Filled":
            self.book.after_fill(rec)

    def _report(self, rec: OrderRecord, execution: account.Execution) -> None:
        owner = self.book.owner(rec.client_id)
        if owner is None:
            return
        owner.send(account.execution_row(execution, -1, owner.sim.tz, owner.version))
        owner.send(order_status(rec))
        owner.send_raw(self.book.open_order_frame(rec, owner.version))
        owner.send(account.commission_row(execution))


def _num(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if value < 1e300 else None
