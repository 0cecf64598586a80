from __future__ import annotations

import asyncio

from traderctl.daemon.eventbus import EventBus
from traderctl.events import Event


def test_a_slow_subscriber_is_dropped_and_others_keep_receiving() -> None:
    async def scenario() -> None:
        bus = EventBus(history=10, queue_size=5)
        dropped = []
        bus.on_drop = dropped.append
        slow = bus.subscribe()
        fast = bus.subscribe(lambda e: e.name == "tick")
        received = []
        for i in range(8):
            bus.publish(Event("tick", {"i": i}))
            received.append((await fast.get()).fields["i"])
        assert received == list(range(8))
        assert dropped == [slow] and slow.dropped
        assert await slow.get() is None
        assert len(bus.history(limit=100)) == 8 and bus.history(limit=0) == []

    asyncio.run(scenario())
