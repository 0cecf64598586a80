#!/usr/bin/env python3
"""Throughput of the simulated TWS, limits off.

The simulator runs in its own process (``python -m traderctl.simulator
--no-limits``) so server and client each get a core. Measured:

* real ib_async client (client-side throttle disabled with
  ``ib.client.MaxRequests = 0``): contract details and historical-bar
  requests per second, with a bounded number in flight;
* a raw-socket client that pipelines requests and only counts replies: the
  server's own ceiling without ib_async's decoding cost;
* market data fan-out: 100 streaming reqMktData subscriptions (100 different
  stocks, quotes every 10 ms, market always open), ticks per second received
  by a raw socket and by ib_async (target 20,000 ticks/s);
* order round trips: ib_async places market orders (at most 50 in flight) and
  waits for each one's execDetails; round trips per second (target 1,000).

Run: ``.venv/bin/python bench/bench_simulator.py [--seconds 5] [--tick-interval 0.01]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from ib_async import IB, Stock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "supervisor"))

from traderctl.simulator.protocol import encode_message, frame_text  # noqa: E402

SYMBOLS = [
    "AAPL",
    "MSFT",
    "NVDA",
    "AMZN",
    "META",
    "GOOGL",
    "TSLA",
    "SPY",
    "QQQ",
    "JPM",
    "XOM",
    "KO",
]


LOG_LEVEL = "warning"  # default of --sim-log-level: per-order log lines cost 20-35% of a fill


def start_server(
    port: int, scenario: str | None = None, log_level: str = LOG_LEVEL
) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "supervisor")}
    extra = ["--scenario", scenario] if scenario else []
    extra += ["--log-level", log_level]
    proc = subprocess.Popen(
        [sys.executable, "-m", "traderctl.simulator", "--port", str(port), "--no-limits", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("simulator did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """The server's CPU seconds over a block: ``with ServerCpu(pid) as cpu: ...; cpu.used``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.used = 0.0
        self.wall = 0.0

    def __enter__(self) -> ServerCpu:
        self._cpu, self._wall = cpu_seconds(self.pid), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.used = cpu_seconds(self.pid) - self._cpu
        self.wall = time.perf_counter() - self._wall

    @property
    def share(self) -> float:
        """Fraction of one core the server used."""
        return self.used / self.wall if self.wall else 0.0


class ClientCpu:
    """This process's CPU share over a block (the ib_async client's decoding)."""

    def __enter__(self) -> ClientCpu:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._wall
        self.share = (time.process_time() - self._cpu) / wall if wall else 0.0


def split_frames(buf: bytes) -> tuple[list[bytes], bytes]:
    """The complete payloads at the front of ``buf``, and the incomplete rest.

    Parsed by offset: slicing the buffer after every frame copies it each
    time and made the raw clients, not the server, the bottleneck.
    """
    out: list[bytes] = []
    pos, end = 0, len(buf)
    while end - pos >= 4:
        stop = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
        if stop > end:
            break
        out.append(buf[pos + 4 : stop])
        pos = stop
    return out, buf[pos:]


async def bounded(total: int, in_flight: int, make) -> float:
    """Run ``total`` awaitables with at most ``in_flight`` pending; return rate."""
    sem = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        async with sem:
            result = await make(i)
            assert result, f"empty reply for request {i}"

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(total)))
    return total / (time.perf_counter() - started)


async def ib_async_bench(port: int, seconds: float) -> dict[str, float]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=10)
    ib.client.MaxRequests = 0  # the simulator's limits are off; lift ib_async's 45/s throttle too
    try:
        contracts = [Stock(s, "SMART", "USD") for s in SYMBOLS]
        await ib.qualifyContractsAsync(*contracts)
        warm = await bounded(
            200, 50, lambda i: ib.reqContractDetailsAsync(contracts[i % len(contracts)])
        )
        n = max(500, int(warm * seconds))
        details = await bounded(
            n, 100, lambda i: ib.reqContractDetailsAsync(contracts[i % len(contracts)])
        )

        def bars(i: int):
            day = 2 + i % 27  # distinct days of Jan 2024 so requests differ
            return ib.reqHistoricalDataAsync(
                contracts[i % len(contracts)],
                f"202401{day:02d} 16:00:00 US/Eastern",
                "1 D",
                "5 mins",
                "TRADES",
                True,
            )

        warm = await bounded(50, 20, bars)
        n = max(100, int(warm * seconds))
        history = await bounded(n, 50, bars)
        return {
            "contract_details_per_s": details,
            "historical_requests_per_s": history,
            "bars_per_request": float(len(await bars(3))),
        }
    finally:
        ib.disconnect()


def raw_bench(port: int, seconds: float) -> float:
    """Pipelined reqContractDetails over a plain socket; replies counted by End message."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"API\0" + frame_text("v157..178"))
    sock.sendall(encode_message([71, 2, 2, ""]))
    request = encode_message(
        [9, 8, 1, 0, "AAPL", "STK", "", 0.0, "", "", "SMART", "", "USD", "", "", 0, "", "", ""]
    )
    batch = request * 500
    buf = b""
    done = 0
    started = time.perf_counter()
    sock.sendall(batch)
    sent = 500
    while time.perf_counter() - started < seconds:
        frames, buf = split_frames(buf + sock.recv(1 << 20))
        done += sum(1 for f in frames if f[:3] == b"52\0")
        if sent - done < 500:
            sock.sendall(batch)
            sent += 500
    elapsed = time.perf_counter() - started
    sock.close()
    return done / elapsed


def stock_con_ids(count: int) -> list[int]:
    from traderctl.simulator.universe import Universe

    listings = [x for x in Universe.load().listings if x.sec_type == "STK"]
    return [x.con_id for x in listings[:count]]


def raw_ticks(
    port: int, seconds: float, pid: int, subscriptions: int = 100
) -> tuple[float, int, ServerCpu]:
    """Ticks per second to ``subscriptions`` streaming reqMktData on one socket.

    Also the server's CPU over the counted seconds (the warm-up excluded).
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"API\0" + frame_text("v157..178"))
    sock.sendall(encode_message([71, 2, 3, ""]))
    contract_tail = ["", "", "", 0.0, "", "", "SMART", "", "", "", ""]
    for req_id, con_id in enumerate(stock_con_ids(subscriptions), 1):
        sock.sendall(encode_message([1, 11, req_id, con_id, *contract_tail, 0, "", 0, 0, ""]))
    buf, ticks, subscribed = b"", 0, set()
    warm_until = time.perf_counter() + 2.0  # first quotes load the holiday calendars
    while time.perf_counter() < warm_until:
        sock.recv(1 << 20)
    started = time.perf_counter()
    with ServerCpu(pid) as cpu:
        while time.perf_counter() - started < seconds:
            frames, buf = split_frames(buf + sock.recv(1 << 20))
            for frame in frames:
                if frame[:2] in (b"1\0", b"2\0") or frame[:3] == b"45\0":
                    ticks += 1
                    subscribed.add(frame.split(b"\0", 3)[2])
    elapsed = time.perf_counter() - started
    sock.close()
    return ticks / elapsed, len(subscribed), cpu


async def ib_async_ticks(port: int, seconds: float, subscriptions: int = 100) -> float:
    """Ticks per second as ib_async decodes them (every tick of every Ticker)."""
    from ib_async import Contract

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=4, timeout=10)
    ib.client.MaxRequests = 0
    count = 0

    def on_pending(tickers: set) -> None:
        nonlocal count
        count += sum(len(t.ticks) for t in tickers) + sum(1 for t in tickers for _ in t.tickByTicks)

    try:
        for con_id in stock_con_ids(subscriptions):
            ib.reqMktData(Contract(conId=con_id, exchange="SMART"))
        await asyncio.sleep(0.5)
        ib.pendingTickersEvent += on_pending
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        return count / (time.perf_counter() - started)
    finally:
        ib.disconnect()


async def order_round_trips(port: int, seconds: float) -> float:
    """Market orders placed to their execDetails, at most 50 in flight."""
    from ib_async import MarketOrder

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=5, timeout=10)
    ib.client.MaxRequests = 0
    try:
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))

        async def one(i: int) -> bool:
            trade = ib.placeOrder(aapl, MarketOrder("BUY" if i % 2 else "SELL", 1))
            while not trade.fills:
                await trade.fillEvent
            return True

        warm = await bounded(200, 50, one)
        return await bounded(max(500, int(warm * seconds)), 50, one)
    finally:
        ib.disconnect()


def place_order_template() -> str:
    """The placeOrder message ib_async writes for a 1-share AAPL market order (orderId 0)."""
    from ib_async import Contract, MarketOrder

    ib = IB()
    captured: list[str] = []
    ib.client.isConnected = lambda: True  # type: ignore[method-assign]
    ib.client.sendMsg = captured.append  # type: ignore[method-assign]
    ib.client._serverVersion = 178
    ib.client.placeOrder(0, Contract(conId=265598, exchange="SMART"), MarketOrder("BUY", 1))
    ib.client.isConnected = lambda: False  # type: ignore[method-assign]
    return captured[0]


def raw_orders(port: int, seconds: float, in_flight: int = 200) -> float:
    """Pipelined placeOrder over a plain socket; round trip = its execDetails arrived."""
    head, _, tail = place_order_template().partition("\0")
    _, _, tail = tail.partition("\0")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"API\0" + frame_text("v157..178"))
    sock.sendall(encode_message([71, 2, 6, ""]))
    next_id = 1_000_000

    def batch(n: int) -> bytes:
        nonlocal next_id
        out = []
        for _ in range(n):
            payload = f"{head}\0{next_id}\0{tail}".encode()
            out.append(struct.pack(">I", len(payload)) + payload)
            next_id += 1
        return b"".join(out)

    buf, done, sent = b"", 0, in_flight
    started = time.perf_counter()
    sock.sendall(batch(in_flight))
    while time.perf_counter() - started < seconds:
        frames, buf = split_frames(buf + sock.recv(1 << 20))
        done += sum(1 for f in frames if f[:3] == b"11\0")
        if sent - done < in_flight // 2:
            sock.sendall(batch(in_flight // 2))
            sent += in_flight // 2
    elapsed = time.perf_counter() - started
    sock.close()
    return done / elapsed


def market_figures(seconds: float, interval: float, log_level: str) -> dict[str, float]:
    """Tick fan-out and order round trips on a simulator whose market is always open.

    Each figure comes with the server's CPU time over the same seconds: the
    rate per server CPU-second is what the simulator can push with a core to
    itself, whatever else the shared machine is doing.
    """
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"market": {"always_open": True, "interval": interval}}, f)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port, f.name, log_level)
    try:
        raw, subscribed, tick_cpu = raw_ticks(port, seconds, server.pid)
        with ServerCpu(server.pid) as ib_tick_cpu, ClientCpu() as ib_tick_client:
            decoded = asyncio.run(ib_async_ticks(port, seconds))
        with ServerCpu(server.pid) as ib_order_cpu, ClientCpu() as ib_order_client:
            orders = asyncio.run(order_round_trips(port, seconds))
        with ServerCpu(server.pid) as order_cpu:
            raw_round_trips = raw_orders(port, seconds)
    finally:
        server.terminate()
        server.wait(10)
        os.unlink(f.name)
    return {
        "raw_ticks": raw,
        "subscribed": subscribed,
        "tick_cpu_share": tick_cpu.share,
        "ticks_per_cpu_s": raw * tick_cpu.wall / max(tick_cpu.used, 1e-9),
        "ib_ticks": decoded,
        "ib_tick_shares": (ib_tick_cpu.share, ib_tick_client.share),
        "orders": orders,
        "ib_order_shares": (ib_order_cpu.share, ib_order_client.share),
        "raw_orders": raw_round_trips,
        "order_cpu_share": order_cpu.share,
        "orders_per_cpu_s": raw_round_trips * order_cpu.wall / max(order_cpu.used, 1e-9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="target length of each measurement"
    )
    parser.add_argument(
        "--tick-interval",
        type=float,
        default=0.01,
        help="seconds between quote passes of the market-data figure (default 0.01)",
    )
    parser.add_argument(
        "--sim-log-level",
        default=LOG_LEVEL,
        choices=("debug", "info", "warning"),
        help="the simulator's log level (default warning)",
    )
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port, log_level=args.sim_log_level)
    try:
        figures = asyncio.run(ib_async_bench(port, args.seconds))
        figures["raw_socket_contract_details_per_s"] = raw_bench(port, args.seconds)
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  "
        f"load: {os.getloadavg()[0]:.1f}  simulator log level: {args.sim_log_level}"
    )
    print(f"ib_async  contract details : {figures['contract_details_per_s']:8.0f} req/s")
    print(
        f"ib_async  historical bars  : {figures['historical_requests_per_s']:8.0f} req/s "
        f"({figures['bars_per_request']:.0f} bars each, "
        f"{figures['historical_requests_per_s'] * figures['bars_per_request']:.0f} bars/s)"
    )
    print(f"raw socket contract details: {figures['raw_socket_contract_details_per_s']:8.0f} req/s")
    market = market_figures(args.seconds, args.tick_interval, args.sim_log_level)
    print(
        f"raw socket market data     : {market['raw_ticks']:8.0f} ticks/s "
        f"to {market['subscribed']:.0f} subscriptions (target 20000), "
        f"server at {market['tick_cpu_share']:.0%} of a core: "
        f"{market['ticks_per_cpu_s']:.0f} ticks per server CPU-second"
    )
    server, client = market["ib_tick_shares"]
    print(
        f"ib_async  market data      : {market['ib_ticks']:8.0f} ticks/s decoded "
        f"(server {server:.0%}, ib_async client {client:.0%} of a core)"
    )
    server, client = market["ib_order_shares"]
    print(
        f"ib_async  order round trips: {market['orders']:8.0f} place->execDetails/s "
        f"(server {server:.0%}, ib_async client {client:.0%} of a core)"
    )
    print(
        f"raw socket order round trips: {market['raw_orders']:7.0f} place->execDetails/s "
        f"(target 1000), server at {market['order_cpu_share']:.0%} of a core: "
        f"{market['orders_per_cpu_s']:.0f} per server CPU-second"
    )


if __name__ == "__main__":
    main()
