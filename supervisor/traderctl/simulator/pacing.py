"""IB's request limits: historical-data pacing and the 50 messages/second cap.

Historical pacing (tws-api historical_limitations): a violation is
(1) an identical request within 15 s, (2) six or more requests for the same
contract + exchange + tick type within 2 s, or (3) more than 60 requests in
any 10 minutes; BID_ASK counts twice. Every window is multiplied by the
simulator's ``time_scale`` so tests can cross them in milliseconds. Rejected
requests are not counted, so a client that backs off recovers.
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


@dataclass
class HistoricalPacer:
    """Tracks historical requests of one TWS session (all clients together)."""

    time_scale: float = 1.0
    enabled: bool = True
    clock: Callable[[], float] = time.monotonic
    _all: deque[tuple[float, int]] = field(default_factory=deque)
    _identical: dict[Hashable, float] = field(default_factory=dict)
    _by_key: dict[Hashable, deque[tuple[float, int]]] = field(default_factory=dict)

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
