"""traderctl-b2c2: price fan-out to 100 consumers, memory with a stalled consumer, RFQ->trade.

The fake venue runs as its own process (`traderctl b2c2 sim --stamp`), so the client's
figures are not mixed with the venue's CPU. Latency is from the venue's send (``sent_ns``
in each frame, wall clock) to each consumer receiving the frame.

    .venv/bin/python bench/bench_b2c2.py [--seconds 4] [--consumers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import requests

from traderctl.logs import configure_logging
from traderctl_b2c2.fanout import Consumer
from traderctl_b2c2.feed import PriceFeed
from traderctl_b2c2.rest import RestClient

TOKEN = "bench-token"


@contextmanager
def venue(interval: float) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "B2C2_APIKEY": TOKEN}
    env = {k: v for k, v in env.items() if not k.startswith("TRADERCTL_")}
    proc = subprocess.Popen([sys.executable, "-m", "traderctl", "b2c2", "sim", "--port", "0",
                             "--interval", str(interval), "--stamp", "--quote-ttl", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    try:
        assert proc.stdout is not None
        match = re.search(r"REST (\S+)  WebSocket (\S+)", proc.stdout.readline())
        assert match, "the fake venue did not start"
        yield match.group(1), match.group(2)
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def reader(consumer: Consumer, latencies: list[float] | None, counts: list[int],
                 stop: asyncio.Event) -> None:
    while not stop.is_set():
        price = await consumer.get()
        counts[0] += 1
        if latencies is not None:
            sent = int((price.model_extra or {})["sent_ns"])
            latencies.append((time.time_ns() - sent) / 1e6)


async def fan_out(ws_url: str, consumers: int, seconds: float, idle: int = 0
                  ) -> dict[str, float]:
    """``consumers`` readers (+ ``idle`` that never read) on one venue subscription; the
    memory run (``idle``) keeps no latency samples, so that only the client's memory shows."""
    latencies: list[float] | None = None if idle else []
    counts = [0]
    stop = asyncio.Event()
    async with PriceFeed(ws_url, TOKEN, queue_size=16) as feed:
        await feed.wait_connected(10)
        readers = [await feed.subscribe("BTCUSD.SPOT", [1]) for _ in range(consumers)]
        stalled = [await feed.subscribe("BTCUSD.SPOT", [1]) for _ in range(idle)]
        assert len(feed.subscriptions) == 1
        await readers[0].get()  # warmed up
        tasks = [asyncio.create_task(reader(c, latencies, counts, stop)) for c in readers]
        rss = [psutil.Process().memory_info().rss]
        sub = feed.subscriptions[readers[0].key]
        start_frames, start = sub.frames, time.perf_counter()
        for _ in range(int(seconds * 4)):
            await asyncio.sleep(0.25)
            rss.append(psutil.Process().memory_info().rss)
        elapsed, frames = time.perf_counter() - start, sub.frames - start_frames
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result = {"frames_s": frames / elapsed, "deliveries_s": counts[0] / elapsed,
                  "p50": pct(latencies or [], 0.5), "p99": pct(latencies or [], 0.99),
                  "rss_start": rss[1] / 2**20, "rss_end": rss[-1] / 2**20,
                  "dropped": sum(c.dropped for c in readers),
                  "stalled_pending": max((c.pending() for c in stalled), default=0),
                  "stalled_dropped": sum(c.dropped for c in stalled)}
        for c in readers + stalled:
            await c.close()
        return result


def round_trips(api_url: str, seconds: float) -> dict[str, float]:
    samples: list[float] = []
    with RestClient(api_url, TOKEN) as client:
        client.rfq("XRPUSD.SPOT", "buy", "1").execute()  # connection warmed up
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            order = client.rfq("XRPUSD.SPOT", "buy", "1").execute()
            assert order.filled
            samples.append(time.perf_counter() - start)
    return {"per_s": len(samples) / sum(samples), "p50": pct(samples, 0.5) * 1000,
            "p99": pct(samples, 0.99) * 1000, "n": len(samples)}


def raw_round_trips(api_url: str, seconds: float) -> dict[str, float]:
    """Anchor: the same two requests with bare requests and dicts (no models, no checks)."""
    samples: list[float] = []
    headers = {"Authorization": f"Token {TOKEN}"}
    body = {"instrument": "XRPUSD.SPOT", "side": "buy", "quantity": "1"}
    with requests.Session() as http:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            quote = http.post(f"{api_url}/request_for_quote/", json=body, headers=headers).json()
            order = http.post(f"{api_url}/order/", headers=headers, json={
                **body, "price": quote["price"], "order_type": "FOK",
                "valid_until": quote["valid_until"][:19]}).json()
            assert order["executed_price"] is not None
            samples.append(time.perf_counter() - start)
    return {"per_s": len(samples) / sum(samples), "p50": pct(samples, 0.5) * 1000,
            "p99": pct(samples, 0.99) * 1000, "n": len(samples)}


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--consumers", type=int, default=100)
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  "
          f"consumers: {args.consumers}  {args.seconds:g}s per phase")
    with venue(0.0) as (_, ws_url):
        one = asyncio.run(fan_out(ws_url, 1, args.seconds))
        many = asyncio.run(fan_out(ws_url, args.consumers, args.seconds))
    print("1. throughput, venue sending as fast as it can (one subscription)")
    print(f"   1 consumer      {one['frames_s']:8.0f} frames/s")
    print(f"   {args.consumers} consumers  {many['frames_s']:8.0f} frames/s  "
          f"{many['deliveries_s']:9.0f} deliveries/s  (frames/s ratio "
          f"{many['frames_s'] / one['frames_s']:.2f} of one consumer)")
    with venue(0.005) as (_, ws_url):
        paced = asyncio.run(fan_out(ws_url, args.consumers, args.seconds))
    print("2. latency venue send -> every consumer, venue pacing one frame per 5 ms")
    print(f"   {paced['frames_s']:.0f} frames/s received, {paced['deliveries_s']:.0f} "
          f"deliveries/s, p50 {paced['p50']:.2f} ms  p99 {paced['p99']:.2f} ms, "
          f"dropped {paced['dropped']:.0f}")
    with venue(0.0) as (_, ws_url):
        stalled = asyncio.run(fan_out(ws_url, args.consumers - 1, args.seconds * 2, idle=1))
    print(f"3. memory with 1 consumer that never reads ({args.consumers - 1} readers, full "
          "speed)")
    print(f"   RSS {stalled['rss_start']:.1f} MiB -> {stalled['rss_end']:.1f} MiB over "
          f"{args.seconds * 2:g}s; stalled queue {stalled['stalled_pending']:.0f} frames "
          f"(bound 16), {stalled['stalled_dropped']:.0f} dropped")
    with venue(1.0) as (api_url, _):
        rt = round_trips(api_url, args.seconds)
        raw = raw_round_trips(api_url, args.seconds)
    print("4. RFQ -> FOK order round trips (sequential, one keep-alive connection)")
    for name, r in (("RestClient + Quote.execute", rt), ("bare requests (anchor)    ", raw)):
        print(f"   {name} {r['per_s']:5.0f} round trips/s  p50 {r['p50']:6.2f} ms  "
              f"p99 {r['p99']:6.2f} ms  ({r['n']:.0f} trades)")
    print(f"   typed client / bare requests = {rt['per_s'] / raw['per_s']:.2f}")


if __name__ == "__main__":
    main()
