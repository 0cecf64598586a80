"""Fan events out to any number of live subscribers without letting one slow the daemon."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from traderctl.events import Event


class Subscription:
    def __init__(self, bus: EventBus, accept: Callable[[Event], bool], size: int) -> None:
        self.bus = bus
        self.accept = accept
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size)
        self.dropped = False

    async def get(self) -> Event | None:
        """The next event, or None once the subscription was dropped or closed."""
        return await self.queue.get()

    def close(self) -> None:
        self.bus.subscribers.discard(self)


class EventBus:
    """Keeps the last ``history`` events; a subscriber whose queue is full is dropped."""

    def __init__(self, history: int = 2000, queue_size: int = 1000) -> None:
        self.recent: deque[Event] = deque(maxlen=history)
        self.subscribers: set[Subscription] = set()
        self.queue_size = queue_size
        self.on_drop: Callable[[Subscription], None] | None = None

    def publish(self, event: Event) -> None:
        self.recent.append(event)
        for sub in list(self.subscribers):
            if not sub.accept(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(sub)

    def subscribe(self, accept: Callable[[Event], bool] = lambda e: True) -> Subscription:
        sub = Subscription(self, accept, self.queue_size)
        self.subscribers.add(sub)
        return sub

    def _drop(self, sub: Subscription) -> None:
        sub.dropped = True
        self.subscribers.discard(sub)
        while not sub.queue.empty():  # make room for the end marker
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)
        if self.on_drop:
            self.on_drop(sub)

    def history(self, accept: Callable[[Event], bool] = lambda e: True,
                limit: int = 100) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        matching = [e for e in self.recent if accept(e)]
        return [e.to_dict() for e in matching[-limit:]]
