"""Fan-out of price frames to consumers: bounded queues, latest wins.

A :class:`Subscription` is one venue subscription (instrument, levels); every
:class:`Consumer` of it in the process shares it. Each consumer has its own bounded queue:
when it is full the oldest frame is dropped (prices are only worth their latest value) and
``dropped`` counts it, so a consumer that stops reading costs a fixed amount of memory and
never slows the venue connection or the other consumers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from traderctl_b2c2.errors import B2C2Error
from traderctl_b2c2.models import Price

Key = tuple[str, tuple[Decimal, ...]]


def subscription_key(instrument: str, levels: Any) -> Key:
    return instrument, tuple(sorted(Decimal(str(q)) for q in levels))


class StreamClosed(Exception):
    """The consumer was closed (by itself, or by the feed shutting down)."""


class Consumer:
    def __init__(self, key: Key, maxsize: int, leave: Callable[[Consumer], Awaitable[None]]
                 ) -> None:
        self.key = key
        self.dropped = 0
        self.received = 0
        self._queue: deque[Price] = deque(maxlen=maxsize)
        self._wake = asyncio.Event()
        self._leave = leave
        self._closed: BaseException | None = None

    @property
    def instrument(self) -> str:
        return self.key[0]

    @property
    def levels(self) -> tuple[Decimal, ...]:
        return self.key[1]

    def push(self, price: Price) -> None:
        """Called by the feed for every frame of the subscription; never blocks."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(price)
        self.received += 1
        self._wake.set()

    def pending(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> Price | None:
        if self._queue:
            return self._queue.popleft()
        self._raise_if_closed()
        return None

    async def get(self) -> Price:
        while not self._queue:
            self._raise_if_closed()
            self._wake.clear()
            await self._wake.wait()
        return self._queue.popleft()

    def _raise_if_closed(self) -> None:
        if isinstance(self._closed, B2C2Error):
            raise self._closed
        if self._closed is not None:
            raise StreamClosed(str(self._closed))

    def fail(self, exc: BaseException) -> None:
        """End the consumer: ``get`` raises once its queue is drained."""
        if self._closed is None:
            self._closed = exc
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    async def close(self) -> None:
        """Leave the subscription; the last consumer leaving unsubscribes at the venue."""
        if self._closed is None:
            self.fail(StreamClosed("closed"))
            await self._leave(self)

    def __aiter__(self) -> Consumer:
        return self

    async def __anext__(self) -> Price:
        try:
            return await self.get()
        except StreamClosed:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Consumer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Subscription:
    """One venue subscription and the consumers sharing it."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.consumers: set[Consumer] = set()
        self.tag: str | None = None
        self.acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.frames = 0
        self.unavailable: str | None = None  # 3013: the venue cannot quote right now

    def frame(self) -> dict[str, Any]:
        return {"event": "subscribe", "instrument": self.key[0],
                "levels": [_number(q) for q in self.key[1]], "tag": self.tag}

    def deliver(self, price: Price) -> None:
        self.frames += 1
        self.unavailable = None
        for consumer in self.consumers:
            consumer.push(price)

    def fail(self, exc: BaseException) -> None:
        if not self.acked.done():
            self.acked.set_exception(exc)
            self.acked.exception()  # retrieved: nobody may be waiting any more
        for consumer in self.consumers:
            consumer.fail(exc)


def _number(q: Decimal) -> int | float:
    """Levels go out as JSON numbers, as the venue's own examples show (``[1, 3]``)."""
    return int(q) if q == q.to_integral_value() else float(q)
