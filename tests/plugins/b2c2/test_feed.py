"""The WebSocket price feed and its fan-out against the fake venue over real sockets."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from traderctl.events import Event
from traderctl_b2c2.errors import StreamError, Unauthorized
from traderctl_b2c2.feed import PriceFeed
from traderctl_b2c2.sim import FakeVenue, prices


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def run(venue: FakeVenue, body: Callable[[PriceFeed, list[Event]], Awaitable[None]],
        token: str | None = None, **options: Any) -> list[Event]:
    events: list[Event] = []

    async def main() -> None:
        feed = PriceFeed(venue.ws_url, token or venue.token, on_event=events.append,
                         backoff=(0.05, 0.2), **options)
        async with feed:
            await feed.wait_connected(10)
            await body(feed, events)
    asyncio.run(main())
    return events


def test_connect_headers_and_tradable_instruments(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        await until(lambda: feed.tradable_instruments)
        assert {"BTCUSD", "ETHUSD"} <= feed.tradable_instruments
        await asyncio.to_thread(venue.set_tradable, ["BTCUSD.SPOT"])
        await until(lambda: feed.tradable_instruments == {"BTCUSD"})
        await asyncio.to_thread(venue.rename_user, "user0", "desk-a")
        await until(lambda: feed.username == "desk-a")

    events = run(venue, body)
    (seen,) = venue.ws_seen
    assert seen["path"] == "/quotes" and seen["request_id"]
    assert str(seen["user_agent"]).startswith("traderctl-b2c2/")
    assert [e.name for e in events][:1] == ["b2c2_stream_connected"]
    assert any(e.name == "b2c2_username_update" and e.fields["new"] == "desk-a" for e in events)


def test_consumers_share_one_venue_subscription_with_deterministic_prices(
        venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        a = await feed.subscribe("BTCUSD.SPOT", [1, 3])
        b = await feed.subscribe("BTCUSD.SPOT", ["3", "1.0"])
        # subscribe returns once the frame is sent; the venue records it when it reads it
        await until(lambda: venue.subscriptions() == [("BTCUSD.SPOT", ("1", "3"))])
        first_a, first_b = await a.get(), await b.get()
        assert first_a is first_b  # one frame, fanned out
        frames = [first_a, *[await a.get() for _ in range(3)]]
        ticks = [int(f.levels.buy[0].price == prices.price("BTCUSD.SPOT", "buy", Decimal(1), t))
                 for t, f in enumerate(frames)]
        assert frames[0].levels.buy[1].quantity == 3
        assert sum(ticks) >= 3  # frames follow the deterministic sequence (a late join skips)
        assert all(f.timestamp.tzinfo is not None for f in frames)
        await a.close()
        assert venue.subscriptions() == [("BTCUSD.SPOT", ("1", "3"))]
        await b.close()
        await until(lambda: venue.subscriptions() == [])
        assert feed.subscriptions == {}

    run(venue, body)


def test_frames_are_routed_by_subscription(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        one = await feed.subscribe("ETHUSD.SPOT", [1])
        five = await feed.subscribe("ETHUSD.SPOT", [5])
        btc = await feed.subscribe("BTCUSD.SPOT", [1])
        for _ in range(5):
            assert [lvl.quantity for lvl in (await one.get()).levels.sell] == [1]
            assert [lvl.quantity for lvl in (await five.get()).levels.sell] == [5]
            assert (await btc.get()).instrument == "BTCUSD.SPOT"
        assert len(venue.subscriptions()) == 3

    run(venue, body)


def test_slow_consumer_is_bounded_and_does_not_slow_the_others(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        idle = await feed.subscribe("BTCUSD.SPOT", [1], queue_size=4)
        busy = await feed.subscribe("BTCUSD.SPOT", [1], queue_size=4)
        got = [await busy.get() for _ in range(20)]
        assert idle.pending() == 4 and idle.dropped >= 16 and busy.dropped == 0
        latest = idle.get_nowait()
        assert latest is not None and latest.timestamp >= got[-5].timestamp

    run(venue, body)


def test_refused_subscription_raises_with_code(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        with pytest.raises(StreamError) as info:
            await feed.subscribe("BTCUSD", [1])
        assert info.value.code == 3019
        with pytest.raises(StreamError) as info:
            await feed.subscribe("DOGUSD.SPOT", [1])
        assert info.value.code == 3003
        assert feed.subscriptions == {} and feed.connects == 1

    run(venue, body)


def test_not_able_to_quote_is_information_not_failure(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        consumer = await feed.subscribe("BTCUSD.SPOT", [1])
        await consumer.get()
        venue.faults.cannot_quote = True
        sub = feed.subscriptions[consumer.key]
        await until(lambda: sub.unavailable)
        assert "not able to quote" in str(sub.unavailable).lower() and not consumer.closed
        venue.faults.cannot_quote = False
        await consumer.get()
        await until(lambda: sub.unavailable is None)
        assert feed.connects == 1

    events = run(venue, body, stale_after=0.3)
    assert not any(e.name == "b2c2_stream_stale" for e in events)


def test_dropped_connection_reconnects_and_resubscribes(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        consumer = await feed.subscribe("BTCUSD.SPOT", [1])
        await consumer.get()
        venue.faults.drop_connections()
        await until(lambda: feed.connects == 2)
        await until(lambda: consumer.pending() > 0)
        assert venue.subscriptions() == [("BTCUSD.SPOT", ("1",))]
        assert not consumer.closed

    names = [e.name for e in run(venue, body)]
    assert "b2c2_stream_disconnected" in names and "b2c2_stream_resubscribed" in names


def test_stale_stream_reconnects_with_an_event(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        consumer = await feed.subscribe("BTCUSD.SPOT", [1])
        await consumer.get()
        venue.faults.stop_pricing = True
        await until(lambda: any(e.name == "b2c2_stream_stale" for e in events))
        venue.faults.stop_pricing = False
        await until(lambda: feed.connects >= 2)
        while consumer.get_nowait():
            pass
        await consumer.get()

    events = run(venue, body, stale_after=0.3)
    stale = next(e for e in events if e.name == "b2c2_stream_stale")
    assert stale.fields["silent_for"] >= 0.3


def test_slow_frames_are_slow_but_not_stale(venue: FakeVenue) -> None:
    async def body(feed: PriceFeed, events: list[Event]) -> None:
        venue.faults.slow_frames = 0.1
        consumer = await feed.subscribe("BTCUSD.SPOT", [1])
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(3):
            await consumer.get()
        assert loop.time() - start >= 0.25 and feed.connects == 1

    run(venue, body, stale_after=2)


def test_bad_token_is_fatal_and_not_retried(venue: FakeVenue) -> None:
    async def main() -> None:
        feed = PriceFeed(venue.ws_url, "not-the-token", backoff=(0.05, 0.1))
        with pytest.raises(Unauthorized) as info:
            await feed.start(wait=10)
        assert info.value.code == 3000
        assert "not-the-token" not in str(info.value) + repr(feed)
        await feed.close()
    asyncio.run(main())
    assert len(venue.ws_seen) == 1


def test_reconnect_backs_off_exponentially_up_to_the_cap() -> None:
    events: list[Event] = []

    async def main() -> None:
        feed = PriceFeed("ws://127.0.0.1:9/quotes", "k", backoff=(0.02, 0.08),
                         on_event=events.append)
        await feed.start()
        await until(lambda: len(events) >= 5)
        await feed.close()
    asyncio.run(main())
    delays = [e.fields["retry_in"] for e in events if e.name == "b2c2_stream_disconnected"]
    assert delays[:5] == [0.02, 0.04, 0.08, 0.08, 0.08]


def test_ping_detects_a_frozen_venue_and_reconnects(tmp_path: Path) -> None:
    """The venue process is stopped (SIGSTOP): no close, no data, no pong. The WebSocket
    ping times out long before the stale timer (60 s) and the feed reconnects once the
    venue runs again."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    sim = subprocess.Popen([sys.executable, "-m", "traderctl", "b2c2", "sim", "--port", "0",
                            "--interval", "0.05"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path)
    events: list[Event] = []
    try:
        assert sim.stdout is not None
        match = re.search(r"WebSocket (\S+)", sim.stdout.readline())
        assert match is not None
        ws_url = match.group(1)

        async def main() -> None:
            async with PriceFeed(ws_url, "sim-token", ping_interval=0.3, stale_after=60,
                                 backoff=(0.05, 0.2), on_event=events.append) as feed:
                await feed.wait_connected(10)
                consumer = await feed.subscribe("BTCUSD.SPOT", [1])
                await consumer.get()
                sim.send_signal(signal.SIGSTOP)
                await until(lambda: any(e.name == "b2c2_stream_disconnected" for e in events))
                sim.send_signal(signal.SIGCONT)
                await until(lambda: feed.connects >= 2, 20)
                while consumer.get_nowait():
                    pass
                await consumer.get()
        asyncio.run(main())
    finally:
        sim.send_signal(signal.SIGCONT)
        sim.terminate()
        sim.wait(10)
        if sim.stdout is not None:
            sim.stdout.close()
    lost = next(e for e in events if e.name == "b2c2_stream_disconnected")
    assert "ping" in lost.fields["reason"].lower()
    assert not any(e.name == "b2c2_stream_stale" for e in events)
