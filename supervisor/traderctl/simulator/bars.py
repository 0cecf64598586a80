"""Deterministic synthetic price bars.

The price of a contract at instant ``t`` is a pure function of (conId, t):
log-price = log(refPrice) + sum of value-noise octaves whose periods run from
2 seconds to 3 years, with amplitudes growing with the square root of the
period like a random walk. Because nothing depends on the request, the same
request always returns the same bars, overlapping requests agree, and a bar's
open equals the previous bar's close when the market trades continuously.
High/low/volume come from a hash of (conId, bar start, bar length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .hours import Session, group_by_trade_date
from .universe import Listing

_MASK = (1 << 64) - 1
_INV53 = 1.0 / float(1 << 53)
_YEAR = 365.25 * 86400
_OCTAVES = (
    2,
    10,
    60,
    300,
    1800,
    7200,
    28800,
    86400,
    5 * 86400,
    30 * 86400,
    180 * 86400,
    1096 * 86400,
)

# barSizeSetting -> seconds (week/month handled by calendar grouping)
BAR_SIZES: dict[str, int] = {
    "1 secs": 1,
    "5 secs": 5,
    "10 secs": 10,
    "15 secs": 15,
    "30 secs": 30,
    "1 min": 60,
    "2 mins": 120,
    "3 mins": 180,
    "5 mins": 300,
    "10 mins": 600,
    "15 mins": 900,
    "20 mins": 1200,
    "30 mins": 1800,
    "1 hour": 3600,
    "2 hours": 7200,
    "3 hours": 10800,
    "4 hours": 14400,
    "8 hours": 28800,
    "1 day": 86400,
    "1 week": 7 * 86400,
    "1 month": 30 * 86400,
}
BAR_ALIASES = {
    "1 sec": "1 secs",
    "1 mins": "1 min",
    "1 hours": "1 hour",
    "1W": "1 week",
    "1 W": "1 week",
    "1M": "1 month",
    "1 M": "1 month",
    "1 days": "1 day",
}
LEGAL_BAR_SIZES = (
    "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, "
    "10 mins, 15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, "
    "8 hours, 1 day, 1W, 1M"
)


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread, process-independent hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _unit(*parts: int) -> float:
    """Deterministic uniform number in [0, 1) from integer parts."""
    return _unit_after(_chain(*parts[:-1]), parts[-1])


def _chain(*parts: int) -> int:
    """The hash state after ``parts``: uniforms that share leading parts share it."""
    h = 0x243F6A8885A308D3
    for p in parts:
        h = _mix(h ^ (p & _MASK))
    return h


def _unit_after(state: int, last: int) -> float:
    """``_unit(*parts, last)`` given ``state = _chain(*parts)``."""
    return (_mix(state ^ (last & _MASK)) >> 11) / float(1 << 53)


@dataclass(frozen=True)
class PriceModel:
    """Synthetic price path of one listing."""

    con_id: int
    ref_price: float
    sigma: float
    min_tick: float
    avg_volume: int

    @classmethod
    def for_listing(cls, lst: Listing) -> PriceModel:
        sigma = 0.08 if lst.sec_type == "CASH" else 0.18 if lst.stock_type == "ETF" else 0.3
        return cls(lst.con_id, lst.ref_price, sigma, lst.min_tick, lst.avg_volume)

    def __post_init__(self) -> None:
        octaves = tuple(
            (
                _mix(self.con_id * 1_000_003 + k),  # per-octave seed
                _unit(self.con_id, k, 7) * period,  # phase, so grids do not line up
                float(period),
                math.sqrt(period / _YEAR),  # random-walk amplitude
            )
            for k, period in enumerate(_OCTAVES)
        )
        object.__setattr__(self, "_octaves", octaves)
        object.__setattr__(self, "_lattice", [(-(1 << 62), 0.0, 0.0)] * len(octaves))
        object.__setattr__(self, "_cache", {})

    def log_offset(self, ts: float) -> float:
        total = 0.0
        lattice: list[tuple[int, float, float]] = self._lattice  # type: ignore[attr-defined]
        for k, (seed, phase, period, amp) in enumerate(self._octaves):  # type: ignore[attr-defined]
            x = (ts + phase) / period
            g = math.floor(x)
            f = x - g
            f = f * f * (3 - 2 * f)
            last_g, a, b = lattice[k]
            if g != last_g:  # live quotes walk forward: slow octaves keep their lattice points
                a = (_mix(seed ^ (g & _MASK)) >> 11) * _INV53 * 2 - 1
                b = (_mix(seed ^ ((g + 1) & _MASK)) >> 11) * _INV53 * 2 - 1
                lattice[k] = (g, a, b)
            total += (a + (b - a) * f) * amp
        return total * self.sigma

    def price(self, ts: float) -> float:
        cache: dict[float, float] = self._cache  # type: ignore[attr-defined]
        value = cache.get(ts)
        if value is None:
            if len(cache) > 50_000:
                cache.clear()
            value = cache[ts] = self.ref_price * math.exp(self.log_offset(ts))
        return value

    def round(self, value: float) -> float:
        tick = self.min_tick or 0.01
        decimals = max(0, -math.floor(math.log10(tick)) + 1)
        return round(round(value / tick) * tick, decimals)

    def half_spread(self, ts: float) -> float:
        return self.min_tick * (1 + int(_unit(self.con_id, int(ts), 3) * 3))


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


def make_bar(
    model: PriceModel, start: datetime, end: datetime, what: str, session_len: float
) -> Bar:
    """One bar for [start, end); prices from the model, extremes from a hash."""
    t0, t1 = start.timestamp(), end.timestamp()
    o, c = model.price(t0), model.price(t1)
    span = max(t1 - t0, 1.0)
    swing = model.sigma * math.sqrt(span / _YEAR) * 0.8
    key = int(t0)
    state = _chain(model.con_id, key, int(span))  # the bar's three draws share it
    hi = max(o, c) * (1 + swing * _unit_after(state, 1))
    lo = min(o, c) * (1 - swing * _unit_after(state, 2))
    if what in ("HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"):
        return _vol_bar(model, start, end, what)
    hs = model.half_spread(t0)
    if what == "BID":
        o, hi, lo, c = o - hs, hi - hs, lo - hs, c - hs
    elif what == "ASK":
        o, hi, lo, c = o + hs, hi + hs, lo + hs, c + hs
    elif what == "BID_ASK":
        o, hi, lo, c = o - hs, hi + hs, lo - hs, c + hs
    r = model.round
    o, hi, lo, c = r(o), r(hi), r(lo), r(c)
    hi, lo = max(hi, o, c), min(lo, o, c)
    if what in ("TRADES", "ADJUSTED_LAST") and model.avg_volume:
        share = span / max(session_len, 1.0)
        volume = float(
            int(model.avg_volume * share * (0.4 + 1.2 * _unit_after(state, 4)))
        )
        wap = round((hi + lo + c) / 3, 6)
        count = max(1, int(volume / 120)) if volume else 0
        return Bar(start, end, o, hi, lo, c, volume, wap, count)
    return Bar(start, end, o, hi, lo, c, -1.0, -1.0, -1)


def _vol_bar(model: PriceModel, start: datetime, end: datetime, what: str) -> Bar:
    base = model.sigma * (1.15 if what == "OPTION_IMPLIED_VOLATILITY" else 1.0)
    vals = [
        base * (1 + 0.25 * math.tanh(model.log_offset(t) * 3))
        for t in (start.timestamp(), end.timestamp())
    ]
    hi = max(vals) * 1.02
    lo = min(vals) * 0.98
    return Bar(
        start, end, round(vals[0], 6), round(hi, 6), round(lo, 6), round(vals[1], 6), -1.0, -1.0, -1
    )


def intraday_bars(
    model: PriceModel,
    sessions: list[Session],
    step: int,
    start: datetime,
    end: datetime,
    now: datetime,
    what: str,
    tz_name: str,
) -> list[Bar]:
    """Bars aligned on the local clock grid, clipped to sessions and the window."""
    from .clock import zone

    tz = zone(tz_name)
    bars: list[Bar] = []
    for sess in sessions:
        if sess.close <= start or sess.open >= end:
            continue
        sess_len = (sess.close - sess.open).total_seconds()
        # the grid from the bar holding the window's start, not from the session's open:
        # 30 minutes of 1-second bars late in a session are 1,800 steps, not 23,400
        grid = _grid_floor(max(sess.open, start).astimezone(tz), step)
        edge = grid.replace(tzinfo=tz).astimezone(UTC)
        while True:
            b_start = max(edge, sess.open)
            grid += timedelta(seconds=step)
            edge = grid.replace(tzinfo=tz).astimezone(UTC)
            b_end = min(edge, sess.close)
            if b_start >= sess.close or b_start >= end:
                break
            if b_start < start or b_end <= b_start:
                continue
            bars.append(make_bar(model, b_start, min(b_end, now), what, sess_len))
    return bars


def _grid_floor(local: datetime, step: int) -> datetime:
    """The naive local grid point at or before ``local``: bars align on the local clock
    (every intraday step divides a day, so any midnight gives the same grid)."""
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds()
    return midnight.replace(tzinfo=None) + timedelta(seconds=(offset // step) * step)


def daily_bars(
    model: PriceModel, sessions: list[Session], now: datetime, what: str
) -> list[tuple[str, Bar]]:
    """One bar per trade date (lunch breaks merged); label YYYYMMDD."""
    out = []
    for day in group_by_trade_date(sessions):
        if day.open >= now:
            continue
        span = (day.close - day.open).total_seconds()
        out.append(
            (f"{day.trade_date:%Y%m%d}", make_bar(model, day.open, min(day.close, now), what, span))
        )
    return out


def grouped_bars(daily: list[tuple[str, Bar]], unit: str) -> list[tuple[str, Bar]]:
    """Weekly ('1 week') or monthly ('1 month') bars built from daily bars."""
    groups: dict[tuple[int, int], list[tuple[str, Bar]]] = {}
    for label, bar in daily:
        d = datetime.strptime(label, "%Y%m%d")  # noqa: DTZ007 - a calendar date label
        iso = d.isocalendar()
        key = (iso.year, iso.week) if unit == "1 week" else (d.year, d.month)
        groups.setdefault(key, []).append((label, bar))
    out = []
    for key in sorted(groups):
        items = groups[key]
        first, last = items[0][1], items[-1][1]
        vol = sum(b.volume for _, b in items) if first.volume >= 0 else -1.0
        cnt = sum(b.count for _, b in items) if first.count >= 0 else -1
        wap = round(sum(b.wap for _, b in items) / len(items), 6) if first.wap >= 0 else -1.0
        bar = Bar(
            first.start,
            last.end,
            first.open,
            max(b.high for _, b in items),
            min(b.low for _, b in items),
            last.close,
            vol,
            wap,
            cnt,
        )
        out.append((items[0][0], bar))
    return out
