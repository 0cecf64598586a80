"""Fan events out to any number of live subscribers without letting one slow the daemon.

History is kept in two rings: service output (chatty, one event per line) in its own, so
that 2,500 lines of output never push the audit records and state changes out of
``events``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from traderctl.events import Event

OUTPUT_EVENTS = frozenset({"service_output"})


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
    """Keeps the last ``history`` events (and the last ``output_history`` output lines apart);
    a subscriber whose queue is full is dropped."""

    def __init__(self, history: int = 2000, queue_size: int = 1000,
                 output_history: int = 2000) -> None:
        self.recent: deque[tuple[int, Event]] = deque(maxlen=history)
        self.output: deque[tuple[int, Event]] = deque(maxlen=output_history)
        self.counter = itertools.count()
        self.subscribers: set[Subscription] = set()
        self.queue_size = queue_size
        self.on_drop: Callable[[Subscription], None] | None = None

    def publish(self, event: Event) -> None:
        ring = self.output if event.name in OUTPUT_EVENTS else self.recent
        ring.append((next(self.counter), event))
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

    def stream(self, accept: Callable[[Event], bool]) -> AsyncIterator[dict[str, Any]]:
        """The accepted events from now on, as dicts, until the subscriber is dropped; the
        subscription ends with the iteration."""
        sub = self.subscribe(accept)

        async def items() -> AsyncIterator[dict[str, Any]]:
            try:
                while (event := await sub.get()) is not None:
                    yield event.to_dict()
            finally:
                sub.close()
        return items()

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
        """The last ``limit`` accepted events of both rings, oldest first."""
        if limit <= 0:
            return []
        merged = heapq.merge(self.recent, self.output, key=lambda item: item[0])
        matching = [e for _, e in merged if accept(e)]
        return [e.to_dict() for e in matching[-limit:]]
