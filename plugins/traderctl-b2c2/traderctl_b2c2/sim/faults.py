"""Fault switches of the fake venue, flipped by tests or over ``POST /_sim/faults/``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    stop_pricing: bool = False       # subscriptions stay, no price frame is sent
    cannot_quote: bool = False       # price frames become 3013 "not able to quote"
    slow_frames: float = 0.0         # extra seconds before every price frame
    rate_limit: int = 0              # the next N REST requests get 429
    retry_after: float = 0.05
    _drop: Callable[[], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def drop_connections(self) -> None:
        """Close every WebSocket connection abruptly (no close frame)."""
        if self._drop is not None:
            self._drop()

    def take_rate_limit(self) -> bool:
        with self._lock:
            if self.rate_limit > 0:
                self.rate_limit -= 1
                return True
            return False

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        for key in ("stop_pricing", "cannot_quote"):
            if key in body:
                setattr(self, key, bool(body[key]))
        for key in ("slow_frames", "retry_after"):
            if key in body:
                setattr(self, key, float(body[key]))
        if "rate_limit" in body:
            self.rate_limit = int(body["rate_limit"])
        if body.get("drop"):
            self.drop_connections()
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return {"stop_pricing": self.stop_pricing, "cannot_quote": self.cannot_quote,
                "slow_frames": self.slow_frames, "rate_limit": self.rate_limit,
                "retry_after": self.retry_after}
