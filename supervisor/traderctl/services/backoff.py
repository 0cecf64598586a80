"""Restart pacing: exponential backoff reset by stable uptime, and a start limit."""

from __future__ import annotations

import random
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traderctl.services.spec import BackoffConfig, StartLimitConfig


class Backoff:
    """Delays before restarts: 0 after a stable run, then initial * factor**n up to max.

    ``jitter`` spreads delays by +/- that fraction so services failing together
    (TWS went down) do not restart in lock-step.
    """

    def __init__(self, spec: BackoffConfig, rng: random.Random | None = None) -> None:
        self.initial = spec["initial"]
        self.factor = spec["factor"]
        self.max = spec["max"]
        self.jitter = spec["jitter"]
        self.failures = 0
        self.rng = rng or random.Random()

    def reset(self) -> None:
        self.failures = 0

    def next_delay(self) -> float:
        """Delay for the restart after one more failure (the first one is immediate)."""
        self.failures += 1
        if self.failures == 1:
            return 0.0
        base = min(self.initial * self.factor ** (self.failures - 2), self.max)
        spread = base * self.jitter
        return max(0.0, min(self.max, base + self.rng.uniform(-spread, spread)))


class StartLimit:
    """More than ``burst`` failures within ``interval`` seconds: give up until an operator acts."""

    def __init__(self, spec: StartLimitConfig) -> None:
        self.burst = spec["burst"]
        self.interval = spec["interval"]
        self.times: deque[float] = deque()

    def record(self, now: float) -> bool:
        """Record a failure at ``now`` (monotonic); True when the limit is exceeded."""
        self.times.append(now)
        while self.times and now - self.times[0] > self.interval:
            self.times.popleft()
        return len(self.times) > self.burst

    def reset(self) -> None:
        self.times.clear()
