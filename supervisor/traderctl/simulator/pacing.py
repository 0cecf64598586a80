"""IB's request limits: historical-data pacing and the 50 messages/second cap.

Historical pacing, as IB documents it (tws-api historical_limitations):

* **Bars of 30 seconds or less: hard rules.** A violation (error 162
  "Historical data request pacing violation") is (1) an identical request
  within 15 s, (2) six or more requests for the same contract + exchange +
  tick type within 2 s, or (3) more than 60 requests in any 10 minutes;
  BID_ASK counts twice. Rejected requests are not counted, so a client that
  backs off recovers.
* **Bars of 1 minute and more: no hard rules** ("limitations ... have been
  lifted"), but a soft throttle and the cap of 50 simultaneous requests.
  The simulator models the throttle as a hold: once more than 60 such
  requests (BID_ASK twice) arrived in the last 10 minutes, each further
  reply is held ``SOFT_STEP`` s per request over 60, at most ``SOFT_MAX`` s.
  A request arriving while 50 are held gets error 322 "Only 50 simultaneous
  API historical data requests allowed." (The hold is this simulator's
  choice: IB does not publish its throttle; the cap and the lifted rules are
  IB's.)

Every window and hold is multiplied by the simulator's ``time_scale`` so
tests can cross them in milliseconds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

IDENTICAL_WINDOW = 15.0
BURST_WINDOW = 2.0
BURST_LIMIT = 6
LONG_WINDOW = 600.0
LONG_LIMIT = 60
MESSAGE_WINDOW = 1.0
MESSAGE_LIMIT = 50
SOFT_STEP = 0.1
SOFT_MAX = 5.0
MAX_SIMULTANEOUS = 50
SMALL_BAR_SECONDS = 30


@dataclass
class HistoricalPacer:
    """Tracks historical requests of one TWS session (all clients together)."""

    time_scale: float = 1.0
    enabled: bool = True
    clock: Callable[[], float] = time.monotonic
    _all: deque[tuple[float, int]] = field(default_factory=deque)
    _identical: dict[Hashable, float] = field(default_factory=dict)
    _by_key: dict[Hashable, deque[tuple[float, int]]] = field(default_factory=dict)
    _large: deque[tuple[float, int]] = field(default_factory=deque)
    held: int = 0

    def soft_hold(self, weight: int) -> float:
        """Seconds to hold the reply of a request for bars of 1 minute or more."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        while self._large and now - self._large[0][0] >= LONG_WINDOW * self.time_scale:
            self._large.popleft()
        self._large.append((now, weight))
        excess = sum(w for _, w in self._large) - LONG_LIMIT
        return min(SOFT_MAX, SOFT_STEP * excess) * self.time_scale if excess > 0 else 0.0

    def at_capacity(self) -> bool:
        return self.enabled and self.held >= MAX_SIMULTANEOUS

    def check(self, identity: Hashable, burst_key: Hashable, weight: int) -> str | None:
        """Record the request if allowed; else return which rule it breaks."""
        if not self.enabled:
            return None
        now = self.clock()
        s = self.time_scale
        self._expire(now)
        last = self._identical.get(identity)
        if last is not None and now - last < IDENTICAL_WINDOW * s:
            return "identical request within 15 seconds"
        burst = self._by_key.setdefault(burst_key, deque())
        while burst and now - burst[0][0] >= BURST_WINDOW * s:
            burst.popleft()
        if sum(w for _, w in burst) + weight >= BURST_LIMIT:
            return (
                "6 or more requests for the same contract, exchange and tick type within 2 seconds"
            )
        if sum(w for _, w in self._all) + weight > LONG_LIMIT:
            return "more than 60 requests within 10 minutes"
        self._identical[identity] = now
        burst.append((now, weight))
        self._all.append((now, weight))
        return None

    def _expire(self, now: float) -> None:
        horizon = LONG_WINDOW * self.time_scale
        while self._all and now - self._all[0][0] >= horizon:
            self._all.popleft()
        ident = IDENTICAL_WINDOW * self.time_scale
        if len(self._identical) > 256:
            self._identical = {k: t for k, t in self._identical.items() if now - t < ident}


@dataclass
class MessageRate:
    """Per-connection 50 messages per (scaled) second limit."""

    time_scale: float = 1.0
    enabled: bool = True
    limit: int = MESSAGE_LIMIT
    clock: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque)

    def hit(self) -> int:
        """Count one message; return the count in the window if over the limit, else 0."""
        if not self.enabled:
            return 0
        now = self.clock()
        window = MESSAGE_WINDOW * self.time_scale
        times = self._times
        times.append(now)
        while times and now - times[0] >= window:
            times.popleft()
        return len(times) if len(times) > self.limit else 0
