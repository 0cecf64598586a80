"""Streams cut from the same price path: tick-by-tick, 5 s real-time bars, forming bars.

* ``reqTickByTickData`` (97, cancel 98) -> ``tickByTick`` (99): Last and AllLast
  when the last price or size changes, BidAsk when the touch changes,
  MidPoint when the midpoint changes; checked every market ``interval``.
  ``numberOfTicks`` > 0 first replays that many ticks from the recent past
  (one per second, from the same path).
* ``reqRealTimeBars`` (50, cancel 51) -> ``realtimeBar`` (50): one 5-second
  bar after each 5-second boundary while the listing trades (IB only
  serves 5 s bars; any other size gets 321).
* ``reqHistoricalData`` with ``keepUpToDate`` -> after the bars,
  ``historicalDataUpdate`` (90) for the forming bar, once per second.

Bars use :func:`~traderctl.simulator.bars.make_bar` over the live window
(with the market's PRICE/GAP adjustment), so they match the ticks.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .bars import Bar, make_bar
from .market import Market
from .universe import ContractQuery, Listing

if TYPE_CHECKING:
    from .session import ClientSession

TICK_BY_TICK, REALTIME_BAR, HISTORICAL_DATA_UPDATE = 99, 50, 90
TBT_TYPES = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
REALTIME_STEP = 5


@dataclass
class LiveStream:
    session: ClientSession
    req_id: int
    listing: Listing
    kind: str  # "tbt:<type>", "rtb:<what>", "update:<step>:<what>"
    last: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class LiveBars:
    """Tick-by-tick, real-time bar and keepUpToDate subscriptions."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.streams: dict[tuple[int, int], LiveStream] = {}

    def _resolve(self, session: ClientSession, req_id: int, fields: list[str]) -> Listing | None:
        listing = session.sim.universe.resolve_one(ContractQuery.from_fields(fields))
        if listing is None:
            session.error(req_id, 200, "No security definition has been found for the request")
        return listing

    def tick_by_tick(self, session: ClientSession, f: list[str]) -> None:
        """[97, reqId, contract*12, tickType, numberOfTicks, ignoreSize]."""
        req_id = int(f[1])
        listing = self._resolve(session, req_id, f[2:14])
        kind = f[14] if len(f) > 14 else ""
        if listing is None:
            return
        if kind not in TBT_TYPES:
            session.error(req_id, 321, f"Error validating request.-'cb' : cause - tickType {kind}")
            return
        stream = LiveStream(session, req_id, listing, f"tbt:{kind}")
        count = int(f[15] or 0) if len(f) > 15 and f[15].isdigit() else 0
        now = datetime.now(UTC).timestamp()
        for back in range(min(count, 1000), 0, -1):
            self._tbt(stream, math.floor(now) - back, force=True)
        self._tbt(stream, now, force=True)
        self.streams[(id(session), req_id)] = stream

    def realtime_bars(self, session: ClientSession, f: list[str]) -> None:
        """[50, 3, reqId, contract*12, barSize, whatToShow, useRTH, options]."""
        req_id = int(f[2])
        listing = self._resolve(session, req_id, f[3:15])
        if listing is None:
            return
        size = int(f[15] or 0) if len(f) > 15 and f[15].isdigit() else 0
        if size != REALTIME_STEP:
            session.error(req_id, 321, "Error validating request.-'bd' : cause - bar size 5 only")
            return
        what = (f[16] if len(f) > 16 else "") or "TRADES"
        stream = LiveStream(session, req_id, listing, f"rtb:{what}")
        stream.last = math.floor(datetime.now(UTC).timestamp() / REALTIME_STEP)
        self.streams[(id(session), req_id)] = stream

    def keep_up_to_date(
        self, session: ClientSession, req_id: int, listing: Listing, step: int, what: str
    ) -> None:
        stream = LiveStream(session, req_id, listing, f"update:{step}:{what}")
        self.streams[(id(session), req_id)] = stream

    def cancel(self, session: ClientSession, req_id: int) -> None:
        self.streams.pop((id(session), req_id), None)

    def drop_session(self, session: ClientSession) -> None:
        for key in [k for k, s in self.streams.items() if s.session is session]:
            del self.streams[key]

    # ---- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        seconds = 0.0
        while True:
            await asyncio.sleep(self.market.interval)
            seconds += self.market.interval
            now = datetime.now(UTC).timestamp()
            second = seconds >= 1.0
            if second:
                seconds = 0.0
            for key, stream in list(self.streams.items()):
                if stream.session.closed:
                    del self.streams[key]
                elif stream.kind.startswith("tbt:"):
                    self._tbt(stream, now)
                elif stream.kind.startswith("rtb:"):
                    self._realtime(stream, now)
                elif second:
                    self._update(stream, now)

    def _tbt(self, s: LiveStream, ts: float, force: bool = False) -> None:
        kind = s.kind[4:]
        if not force and not self.market.trading_at(s.listing, ts):
            return
        q = self.market.quote(s.listing, ts)
        if kind in ("Last", "AllLast"):
            value: tuple[Any, ...] = (q.last, q.last_size)
            body: list[Any] = [q.last, q.last_size, 0, s.listing.primary_exchange or "SMART", ""]
        elif kind == "BidAsk":
            value = (q.bid, q.ask, q.bid_size, q.ask_size)
            body = [q.bid, q.ask, q.bid_size, q.ask_size, 0]
        else:
            value = ((q.bid + q.ask) / 2,)
            body = [round((q.bid + q.ask) / 2, 6)]
        if force or value != s.last:
            s.last = value
            s.session.send([TICK_BY_TICK, s.req_id, TBT_TYPES[kind], int(ts), *body])

    def _realtime(self, s: LiveStream, ts: float) -> None:
        slot = math.floor(ts / REALTIME_STEP)
        if slot == s.last:
            return
        start = s.last * REALTIME_STEP
        s.last = slot
        if not self.market.trading_at(s.listing, start):
            return
        bar = self._bar(s.listing, start, start + REALTIME_STEP, s.kind[4:])
        prices = [bar.open, bar.high, bar.low, bar.close]
        sizes = [max(bar.volume, 0), max(bar.wap, 0), max(bar.count, 0)]
        s.session.send([REALTIME_BAR, 3, s.req_id, int(start), *prices, *sizes])

    def _update(self, s: LiveStream, ts: float) -> None:
        _, step_text, what = s.kind.split(":", 2)
        step = int(step_text)
        start = math.floor(ts / step) * step if step < 86400 else ts - (ts % 86400)
        bar = self._bar(s.listing, start, ts, what)
        label = datetime.fromtimestamp(start, UTC).astimezone(s.session.sim.zone())
        stamp = f"{label:%Y%m%d %H:%M:%S} {s.session.sim.tz}"
        values = [bar.open, bar.close, bar.high, bar.low, max(bar.wap, 0), max(bar.volume, 0)]
        s.session.send([HISTORICAL_DATA_UPDATE, s.req_id, max(bar.count, 0), stamp, *values])

    def _bar(self, listing: Listing, start: float, end: float, what: str) -> Bar:
        model = self.market.model_for(listing)
        t0, t1 = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        raw = make_bar(model, t0, t1, what, 23400.0)
        factor = self.market.factor(listing)
        if factor == 1.0:
            return raw
        r = model.round
        return Bar(
            raw.start,
            raw.end,
            r(raw.open * factor),
            r(raw.high * factor),
            r(raw.low * factor),
            r(raw.close * factor),
            raw.volume,
            round(raw.wap * factor, 6) if raw.wap > 0 else raw.wap,
            raw.count,
        )
