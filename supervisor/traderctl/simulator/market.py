"""The simulated market: one deterministic price per contract and instant.

The live price of a listing at ``t`` is the same synthetic path the
historical bars are cut from (:class:`~traderctl.simulator.bars.PriceModel`),
rounded to ``minTick``, so a quote at 10:31:00 equals the close of the
10:30 one-minute bar. Outside the listing's trading hours the price freezes
at the last session close (``always_open`` in the scenario's ``market``
section switches that off, for tests that must trade at any wall-clock time).

On top of the path a test or scenario can move the market: ``PRICE AAPL
250`` rescales the path so it passes through 250 now and keeps walking from
there, ``GAP AAPL -5`` jumps it by a percentage, ``HALT AAPL`` freezes it
(tick 49 halted) until ``RESUME AAPL``, ``VOLUME AAPL 500000`` prints that
many shares on today's volume (as every simulated fill does). These
adjustments apply to live data, conditions and fills; historical bars keep
the unadjusted path.

Entitlements (scenario ``market: {unsubscribed: [...], no_api: [...]}``, by
symbol or primary exchange) decide between live data, error 354, 10089, and
delayed data with warning 10167, as a real account without a subscription
gets them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from .bars import PriceModel, _unit, make_bar
from .hours import Session, group_by_trade_date
from .universe import Listing

DELAY_SECONDS = 15 * 60
DEFAULT_DEPTH = 1_000_000.0
DEFAULT_INTERVAL = 0.25  # TWS streams stock quotes in 250 ms snapshots


class Quote(NamedTuple):
    """Top of book and day statistics at one instant (prices on the tick grid).

    A named tuple: built for every subscribed listing on every streaming pass.
    """

    bid: float
    ask: float
    last: float
    bid_size: float
    ask_size: float
    last_size: float
    volume: float
    high: float
    low: float
    open: float
    close: float
    halted: bool
    trading: bool


@dataclass
class Adjustment:
    """A multiplicative change of one listing's path from ``since`` on."""

    factor: float = 1.0
    halted_at: float | None = None


@dataclass
class Entitlements:
    """Which listings the simulated account may see live (scenario-controlled)."""

    unsubscribed: frozenset[str] = frozenset()
    no_api: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Entitlements:
        def names(key: str) -> frozenset[str]:
            return frozenset(str(v).upper() for v in raw.get(key) or [])

        return cls(names("unsubscribed"), names("no_api"))

    def _hit(self, names: frozenset[str], lst: Listing) -> bool:
        keys = {lst.symbol.upper(), lst.primary_exchange.upper(), lst.exchange.upper()}
        return bool(names & keys)

    def live(self, lst: Listing) -> bool:
        return not (self._hit(self.unsubscribed, lst) or self._hit(self.no_api, lst))

    def api_missing(self, lst: Listing) -> bool:
        return self._hit(self.no_api, lst)


@dataclass
class Market:
    """Prices, adjustments and entitlements of the simulated market."""

    model_for: Callable[[Listing], PriceModel]
    always_open: bool = False
    depth: float = DEFAULT_DEPTH
    interval: float = DEFAULT_INTERVAL
    entitlements: Entitlements = field(default_factory=Entitlements)
    _adjust: dict[int, Adjustment] = field(default_factory=dict)
    _days: dict[tuple[int, int], Any] = field(default_factory=dict)
    _traded: dict[int, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_scenario(
        cls, model_for: Callable[[Listing], PriceModel], raw: dict[str, Any]
    ) -> Market:
        return cls(
            model_for,
            always_open=bool(raw.get("always_open", False)),
            depth=float(raw.get("depth", DEFAULT_DEPTH)),
            interval=float(raw.get("interval", DEFAULT_INTERVAL)),
            entitlements=Entitlements.from_dict(raw),
        )

    # ---- the price path ---------------------------------------------------------------

    def trading_at(self, lst: Listing, ts: float) -> bool:
        if self.always_open:
            return True
        return lst.calendar.is_open(datetime.fromtimestamp(ts, UTC), rth=False)

    def _frozen_at(self, lst: Listing, ts: float) -> float:
        """``ts`` while the listing trades, else the close of its last session."""
        if self.trading_at(lst, ts):
            return ts
        now = datetime.fromtimestamp(ts, UTC)
        past = lst.calendar.sessions_between(now - timedelta(days=10), now, rth=False)
        closed = [s for s in past if s.close <= now]
        return closed[-1].close.timestamp() if closed else ts

    def raw_price(self, lst: Listing, ts: float) -> float:
        """Unrounded, adjusted price; the path is frozen while halted or closed."""
        adj = self._adjust.get(lst.con_id)
        at = self._frozen_at(lst, ts)
        if adj is not None and adj.halted_at is not None:
            at = min(at, adj.halted_at)
        value: float = self.model_for(lst).price(at)
        return value * (adj.factor if adj else 1.0)

    def price(self, lst: Listing, ts: float) -> float:
        """Last trade price on the listing's tick grid."""
        model: PriceModel = self.model_for(lst)
        return model.round(self.raw_price(lst, ts))

    def touch(self, lst: Listing, ts: float) -> tuple[float, float, float]:
        """(bid, ask, last) at ``ts``: the cheap part of a quote, for fills and conditions."""
        model = self.model_for(lst)
        last = self.price(lst, ts)
        spread = model.half_spread(ts)
        return model.round(last - spread), model.round(last + spread), last

    def quote(self, lst: Listing, ts: float, delayed: bool = False) -> Quote:
        """Quote at ``ts`` (15 minutes earlier for delayed data)."""
        at = ts - DELAY_SECONDS if delayed else ts
        model: PriceModel = self.model_for(lst)
        last = self.price(lst, at)
        spread = model.half_spread(at)
        bucket = int(at / self.interval)
        day, prev = self._day_stats(lst, at)
        halted = self.halted(lst)
        traded = self._traded.get(lst.con_id)
        extra = traded[1] if traded is not None and traded[0] == day[4] else 0.0
        return Quote(
            bid=model.round(last - spread),
            ask=model.round(last + spread),
            last=last,
            bid_size=float(100 * (1 + int(_unit(lst.con_id, bucket, 11) * 20))),
            ask_size=float(100 * (1 + int(_unit(lst.con_id, bucket, 12) * 20))),
            last_size=float(100 * (1 + int(_unit(lst.con_id, bucket, 13) * 5))),
            volume=max(day[0], 0.0) + extra,
            high=max(day[1], last),
            low=min(day[2], last),
            open=day[3],
            close=prev,
            halted=halted,
            trading=self.trading_at(lst, at) and not halted,
        )

    def _day_stats(
        self, lst: Listing, ts: float
    ) -> tuple[tuple[float, float, float, float, float], float]:
        """:meth:`_day`, cached per listing and minute."""
        key = (lst.con_id, int(ts // 60))
        cached = self._days.get(key)
        if cached is None:
            if len(self._days) > 10_000:
                self._days.clear()
            cached = self._days[key] = self._day(lst, ts)
        return cached

    def add_volume(self, lst: Listing, shares: float, ts: float) -> None:
        """Shares traded today on top of the path's volume (fills, VOLUME prints).

        Kept per trade date: the next session starts from the path's volume again.
        """
        if shares < 0 or not math.isfinite(shares):
            raise ValueError(f"shares must be a positive number, got {shares}")
        day_open = self._day_stats(lst, ts)[0][4]
        traded = self._traded.get(lst.con_id)
        before = traded[1] if traded is not None and traded[0] == day_open else 0.0
        self._traded[lst.con_id] = (day_open, before + shares)

    def _day(
        self, lst: Listing, ts: float
    ) -> tuple[tuple[float, float, float, float, float], float]:
        """(volume, high, low, open, session open) of the current trade date; previous close."""
        model: PriceModel = self.model_for(lst)
        now = datetime.fromtimestamp(ts, UTC)
        days = group_by_trade_date(
            lst.calendar.sessions_between(now - timedelta(days=10), now, rth=False)
        )
        started = [d for d in days if d.open <= now]
        if not started:
            last = self.price(lst, ts)
            return (0.0, last, last, last, 0.0), last
        today: Session = started[-1]
        bar = make_bar(model, today.open, min(today.close, now), "TRADES", _span(today))
        factor = self._adjust[lst.con_id].factor if lst.con_id in self._adjust else 1.0
        prev = model.round(model.price(started[-2].close.timestamp())) if len(started) > 1 else 0.0
        r = model.round
        high, low, open_ = r(bar.high * factor), r(bar.low * factor), r(bar.open * factor)
        # the whole day's volume (the daily bar's), accrued in proportion: it only grows
        full = make_bar(model, today.open, today.close, "TRADES", _span(today)).volume
        elapsed = (min(today.close, now) - today.open).total_seconds()
        volume = float(int(full * elapsed / max(_span(today), 1.0)))
        return (volume, high, low, open_, today.open.timestamp()), prev

    # ---- moving the market --------------------------------------------------------------

    def set_price(self, lst: Listing, target: float, ts: float) -> None:
        """Rescale the path so it passes through ``target`` at ``ts``."""
        self._days.clear()
        if target <= 0 or not math.isfinite(target):
            raise ValueError(f"price must be positive, got {target}")
        adj = self._adjust.setdefault(lst.con_id, Adjustment())
        base = self.raw_price(lst, ts) / adj.factor
        adj.factor = target / base

    def gap(self, lst: Listing, percent: float) -> None:
        self._days.clear()
        adj = self._adjust.setdefault(lst.con_id, Adjustment())
        if percent <= -100:
            raise ValueError("a gap of -100% or more would make the price non-positive")
        adj.factor *= 1 + percent / 100.0

    def halt(self, lst: Listing, ts: float) -> None:
        adj = self._adjust.setdefault(lst.con_id, Adjustment())
        if adj.halted_at is None:
            adj.halted_at = ts

    def resume(self, lst: Listing, ts: float) -> None:
        """End a halt; the price continues from where it stood."""
        adj = self._adjust.get(lst.con_id)
        if adj is None or adj.halted_at is None:
            return
        frozen = self.raw_price(lst, ts)
        adj.halted_at = None
        adj.factor = frozen / (self.raw_price(lst, ts) / adj.factor)

    def factor(self, lst: Listing) -> float:
        """The PRICE/GAP adjustment applied to the path of ``lst`` (1.0: none)."""
        adj = self._adjust.get(lst.con_id)
        return adj.factor if adj else 1.0

    def halted(self, lst: Listing) -> bool:
        adj = self._adjust.get(lst.con_id)
        return adj is not None and adj.halted_at is not None


def _span(day: Session) -> float:
    return (day.close - day.open).total_seconds()
