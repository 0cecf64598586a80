"""The matching engine: working orders fill against the simulated quote.

Rules (a simulation of an exchange touch, not of a real order book):

* MKT buys at the ask, sells at the bid; LMT fills when the touch crosses
  the limit, at the touch (so a marketable limit gets the better price);
  STP becomes a market order once the last price trades through ``auxPrice``
  (buy: last >= stop, sell: last <= stop), STP LMT becomes a limit order at
  ``lmtPrice``; MIT and LIT trigger the other way (buy: last <= ``auxPrice``);
  TRAIL and TRAIL LIMIT move their stop with the price (``auxPrice`` or
  ``trailingPercent`` away, from ``trailStopPrice`` if set) and trigger like
  a stop, TRAIL LIMIT then limited ``lmtPriceOffset`` beyond the stop; MTL
  trades at the touch and leaves the rest as a limit at its first fill's
  price; MIDPRICE fills at the midpoint, capped by ``lmtPrice`` if set.
  Other order types rest (Submitted) and never fill.
* Time in force: IOC fills what it can on arrival and cancels the rest, FOK
  fills all on arrival or nothing (cancelled), GTD is cancelled at
  ``goodTillDate``.
* Nothing fills while the listing is halted or outside its trading hours;
  outside regular hours only orders with ``outsideRth`` fill.
* Each pass fills at most ``market.depth`` shares (scenario ``market.depth``),
  so larger orders fill partially over several passes.
* A fill sends execDetails, orderStatus (filled/remaining/avgFillPrice),
  openOrder and commissionReport to the owning client, adds its shares to the
  listing's volume of the day, books the fill in the account
  (:mod:`.ledger`), activates bracket children of a filled parent and lets
  the order's groups react: an OCA group of type 1 cancels its other members,
  types 2 and 3 and the children of one bracket parent reduce them in
  proportion (:meth:`.OrderBook.after_execution`).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import account, ledger
from ._log import get_logger
from .clock import parse_end_datetime
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
    mid: float


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

    def arrive(self, rec: OrderRecord) -> None:
        """A newly working order: matched at once; IOC and FOK never rest."""
        tif = rec.order.get("tif", "").upper()
        if tif == "FOK" and not self._fills_whole(rec):
            self._expire(rec, tif)
            return
        self.match(rec)
        if tif in ("IOC", "FOK") and not rec.is_done:
            self._expire(rec, tif)

    def _fills_whole(self, rec: OrderRecord) -> bool:
        listing = self.book.universe.get(rec.con_id)
        if listing is None or rec.remaining > self.market.depth:
            return False
        ts = datetime.now(UTC).timestamp()
        if not self._may_trade(rec, listing, ts):
            return False
        return self._fill_price(rec, self._touch(listing, ts)) is not None

    def _expire(self, rec: OrderRecord, why: str) -> None:
        rec.set_status("Cancelled")
        log.info("sim_tws_order_expired", order_id=rec.order_id, tif=why, filled=rec.filled)
        self.book.notify(rec)

    def expire_gtd(self, now: datetime) -> None:
        """Cancel working GTD orders whose ``goodTillDate`` has passed."""
        for rec in self.book.live():
            good_till = rec.order.get("goodTillDate", "")
            if rec.is_done or not good_till or rec.order.get("tif", "").upper() != "GTD":
                continue
            try:
                until = parse_end_datetime(good_till, self.book.tz_name, now)
            except (ValueError, KeyError):
                continue
            if until <= now:
                self._expire(rec, "GTD")

    def match_all(self) -> None:
        """One pass over the working orders (one member per blocking OCA group)."""
        self.expire_gtd(datetime.now(UTC))
        self.book.deferred = set()
        busy: set[tuple[int, str, str]] = set()
        try:
            for rec in [r for r in self.book.live() if r.status == "Submitted"]:
                groups = self.book.blocking_groups(rec)
                if groups & busy:
                    continue
                if self.match(rec):
                    busy |= groups
        finally:
            deferred, self.book.deferred = self.book.deferred, None
            for key in sorted(deferred):
                self.book.rebalance(key)

    def match(self, rec: OrderRecord) -> bool:
        """Fill ``rec`` as far as the quote and the depth allow; whether it executed."""
        listing = self.book.universe.get(rec.con_id)
        if listing is None or rec.status != "Submitted" or rec.remaining <= 0:
            return False
        ts = datetime.now(UTC).timestamp()
        if not self._may_trade(rec, listing, ts):
            return False
        touch = self._touch(listing, ts)
        price = self._fill_price(rec, touch)
        if price is None:
            return False
        qty = min(rec.remaining, self.market.depth)
        self._fill(rec, listing, qty, price, takes=self._takes(rec))
        return True

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
        bid, ask = model.round(last - spread), model.round(last + spread)
        return Touch(bid, ask, last, model.round((bid + ask) / 2))

    def _fill_price(self, rec: OrderRecord, t: Touch) -> float | None:
        """The price this pass fills at, or None if the order does not trade now."""
        kind = rec.order.get("orderType", "").upper()
        buy = rec.order.get("action", "").upper() == "BUY"
        touch = t.ask if buy else t.bid
        if kind in _TRIGGERED:
            if not rec.stop_triggered and self._triggers(rec, kind, buy, t):
                rec.stop_triggered = True
                log.info("sim_tws_stop_triggered", order_id=rec.order_id, last=t.last, kind=kind)
            if not rec.stop_triggered:
                return None
            kind = _TRIGGERED[kind]
        limit = _num(rec.order.get("lmtPrice"))
        if kind == "MTL":  # market now; what is left becomes a limit at the first fill's price
            if not rec.filled:
                return touch
            kind, limit = "LMT", rec.last_fill_price
        elif kind == "TRAIL LMT":
            kind, limit = "LMT", _trail_limit(rec, buy)
        if kind == "MKT":
            return touch
        if kind == "MIDPRICE":  # the midpoint, capped by the limit when there is one
            if limit is None:
                return t.mid
            return t.mid if (t.mid <= limit if buy else t.mid >= limit) else None
        if kind == "LMT":
            if limit is None:
                return None
            return touch if (touch <= limit if buy else touch >= limit) else None
        return None

    def _triggers(self, rec: OrderRecord, kind: str, buy: bool, t: Touch) -> bool:
        """Whether the last price has reached the order's trigger now.

        Stops trigger when the price trades through ``auxPrice`` against the
        order (buy: at or above), if-touched orders when it reaches it in the
        order's favour (buy: at or below); a trailing stop first moves its
        stop with the price (``auxPrice`` away, or ``trailingPercent``), never back.
        """
        if kind in ("TRAIL", "TRAIL LIMIT"):
            stop = _trail_stop(rec, buy, t.last)
            return stop is not None and (t.last >= stop if buy else t.last <= stop)
        trigger = _num(rec.order.get("auxPrice"))
        if trigger is None:
            return False
        if kind in ("MIT", "LIT"):
            return t.last <= trigger if buy else t.last >= trigger
        return t.last >= trigger if buy else t.last <= trigger

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
        self.book.after_execution(rec)

    def _report(self, rec: OrderRecord, execution: account.Execution) -> None:
        owner = self.book.owner(rec.client_id)
        if owner is None:
            return
        owner.send(account.execution_row(execution, -1, owner.sim.tz, owner.version))
        owner.send(order_status(rec))
        owner.send_raw(self.book.open_order_frame(rec, owner.version))
        owner.send(account.commission_row(execution))


# order types that wait for a trigger, and what they become once triggered
_TRIGGERED = {
    "STP": "MKT",
    "STP LMT": "LMT",
    "MIT": "MKT",
    "LIT": "LMT",
    "TRAIL": "MKT",
    "TRAIL LIMIT": "TRAIL LMT",
}


def _trail_stop(rec: OrderRecord, buy: bool, last: float) -> float | None:
    """The trailing stop after ``last``: it follows the price and never moves back."""
    amount = _num(rec.order.get("auxPrice"))
    percent = _num(rec.order.get("trailingPercent"))
    if percent is not None and percent > 0:
        amount = last * percent / 100.0
    if amount is None:
        return None
    candidate = last + amount if buy else last - amount
    current = rec.trail_stop
    if current is None:
        current = _num(rec.order.get("trailStopPrice"))
    if current is None:
        rec.trail_stop = candidate
    else:
        rec.trail_stop = min(current, candidate) if buy else max(current, candidate)
    return rec.trail_stop


def _trail_limit(rec: OrderRecord, buy: bool) -> float | None:
    """A triggered trailing stop limit: ``lmtPriceOffset`` beyond the stop, or ``lmtPrice``."""
    offset = _num(rec.order.get("lmtPriceOffset"))
    if offset is None or rec.trail_stop is None:
        return _num(rec.order.get("lmtPrice"))
    return rec.trail_stop + offset if buy else rec.trail_stop - offset


def _num(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if value < 1e300 else None
