#!/usr/bin/env python3
"""Throughput of the simulated TWS, limits off.

The simulator runs in its own process (``python -m traderctl.simulator
--no-limits``) so server and client each get a core. Measured:

* real ib_async client (client-side throttle disabled with
  ``ib.client.MaxRequests = 0``): contract details and historical-bar
  requests per second, with a bounded number in flight;
* a raw-socket client that pipelines requests and only counts replies: the
  server's own ceiling without ib_async's decoding cost.

Run: ``PYTHONPATH=supervisor .venv/bin/python bench/bench_simulator.py [--seconds 5]``
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


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "supervisor")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "traderctl.simulator", "--port", str(port), "--no-limits"],
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
        chunk = sock.recv(1 << 20)
        buf += chunk
        while len(buf) >= 4:
            size = struct.unpack(">I", buf[:4])[0]
            if len(buf) < 4 + size:
                break
            if buf[4:7] == b"52\0":
                done += 1
            buf = buf[4 + size :]
        if sent - done < 500:
            sock.sendall(batch)
            sent += 500
    elapsed = time.perf_counter() - started
    sock.close()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="target length of each measurement"
    )
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port)
    try:
        figures = asyncio.run(ib_async_bench(port, args.seconds))
        figures["raw_socket_contract_details_per_s"] = raw_bench(port, args.seconds)
    finally:
        server.terminate()
        server.wait(10)
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(f"ib_async  contract details : {figures['contract_details_per_s']:8.0f} req/s")
    print(
        f"ib_async  historical bars  : {figures['historical_requests_per_s']:8.0f} req/s "
        f"({figures['bars_per_request']:.0f} bars each, "
        f"{figures['historical_requests_per_s'] * figures['bars_per_request']:.0f} bars/s)"
    )
    print(f"raw socket contract details: {figures['raw_socket_contract_details_per_s']:8.0f} req/s")


if __name__ == "__main__":
    main()
