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


def test_output_lines_do_not_push_audit_records_out_of_the_history() -> None:
    bus = EventBus(history=10, output_history=5)
    bus.publish(Event("control_request", {"cmd": "restart"}))
    for i in range(50):
        bus.publish(Event("service_output", {"line": str(i)}))
        if i == 20:
            bus.publish(Event("service_state", {"to": "running"}))
    names = [e["event"] for e in bus.history(limit=100)]
    assert names[:2] == ["control_request", "service_state"]
    assert names[2:] == ["service_output"] * 5
    assert [e["line"] for e in bus.history(lambda e: e.name == "service_output")] == [
        "45", "46", "47", "48", "49"]
