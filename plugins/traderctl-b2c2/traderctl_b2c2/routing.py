"""What the price feed knows about the venue, and how each incoming frame changes it.

The router holds the subscriptions (by key and by the ``tag`` of their pending subscribe),
the pending unsubscribes, the tradable instruments and the username, and turns every frame
the venue sends into one of those changes or into a price delivered to a subscription.
It does no I/O: :class:`traderctl_b2c2.feed.PriceFeed` owns the connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from traderctl.logs import get_logger
from traderctl_b2c2.errors import StreamError, Unauthorized
from traderctl_b2c2.fanout import Key, Subscription
from traderctl_b2c2.models import Price

AUTH_CODES = frozenset({3000, 3001, 3017})
INFO_CODES = frozenset({3013})  # "not able to quote at the moment": information
log = get_logger(__name__)


class Router:
    def __init__(self, emit: Callable[..., None]) -> None:
        self.subscriptions: dict[Key, Subscription] = {}
        self.tags: dict[str, Subscription] = {}
        self.unsubscribing: dict[str, asyncio.Future[None]] = {}
        self.tradable_instruments: set[str] = set()
        self.username: str | None = None
        self.connected = asyncio.Event()  # set by the first tradable_instruments frame
        self.fatal: BaseException | None = None
        self.last_price = time.monotonic()
        self._emit = emit

    def dispatch(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("b2c2_frame_unparsable", size=len(raw))
            return
        if not isinstance(frame, dict):
            return
        event = frame.get("event")
        if frame.get("success") is False:
            self._on_error(frame)
        elif event == "price":
            self._on_price(frame)
        elif event in ("tradable_instruments", "tradable_instruments_update"):
            # sent by the venue once the token is accepted: that is "connected"
            self.tradable_instruments = set(frame.get("tradable_instruments") or [])
            self.connected.set()
        elif event == "subscribe":
            sub = self.tags.get(str(frame.get("tag")))
            if sub is not None and not sub.acked.done():
                sub.acked.set_result(None)
        elif event == "unsubscribe":
            future = self.unsubscribing.get(str(frame.get("tag")))
            if future is not None and not future.done():
                future.set_result(None)
        elif event == "username_update":
            self.username = frame.get("new_username")
            self._emit("b2c2_username_update", old=frame.get("old_username"),
                       new=self.username)

    def _on_price(self, frame: dict[str, Any]) -> None:
        try:
            price = Price.model_validate(frame)
        except ValidationError as exc:
            log.warning("b2c2_price_invalid", error=str(exc).splitlines()[0])
            return
        self.last_price = time.monotonic()
        sub = self.subscriptions.get((price.instrument, price.quantities))
        if sub is not None:
            sub.deliver(price)

    def _on_error(self, frame: dict[str, Any]) -> None:
        code = frame.get("error_code")
        message = str(frame.get("error_message") or "error")
        tag = str(frame.get("tag"))
        if code in INFO_CODES:  # the venue is alive, it just cannot quote this now
            self.last_price = time.monotonic()
            for key, sub in self.subscriptions.items():
                if key[0] == frame.get("instrument"):
                    sub.unavailable = message
            return
        error = StreamError(message, code=code if isinstance(code, int) else None,
                            details={k: v for k, v in frame.items() if k == "errors"})
        self._emit("b2c2_stream_error", code=code, message=message,
                   instrument=frame.get("instrument"))
        if code in AUTH_CODES:
            self.fatal = Unauthorized(message, code=code)
        elif frame.get("event") == "subscribe" and tag in self.tags:
            sub = self.tags.pop(tag)
            self.subscriptions.pop(sub.key, None)
            sub.fail(error)
        elif frame.get("event") == "unsubscribe" and tag in self.unsubscribing:
            self.unsubscribing[tag].set_exception(error)
