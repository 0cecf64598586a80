"""traderctl-history: small-bar pacing utilisation against the simulator, the planner's
request count against the minimum, ArcticDB write/read beside Parquet (pyarrow).

    .venv/bin/python bench/bench_history.py [--symbols 24] [--scale 0.005] [--days 2]
        [--concurrency 8] [--only planner|storage|status|pacing]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SYMBOLS = ["AAPL", "MSFT", "IBM", "AMZN", "GOOG", "META", "NVDA", "TSLA", "JPM", "XOM", "KO",
           "PEP", "WMT", "DIS", "INTC", "CSCO", "ORCL", "NFLX", "ADBE", "CRM", "BAC", "WFC",
           "C", "GS"]


def last_weekday() -> date:
    day = datetime.now(UTC).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def workdir(prefix: str, scale: float) -> Path:
    """A folder with a config for ``history download``: data under it, IB's clocks scaled."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "configs").mkdir()
    (root / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {root}/none.sock\n  data_dir: {root}/data\n"
        f"jobs:\n  time_scale: {scale}\n  poll: 0.05\n")
    return root


def pacing(n: int, scale: float, size: str = "1 secs", days: int = 1,
           concurrency: int = 8) -> None:
    """A real ``history download`` (child process) against the simulator enforcing IB's
    small-bar rules at ``scale``. Utilisation is counted where IB counts: the requests the
    simulator accepted in each full 10-minute window (scaled) from the first request on;
    the last, partial window is left out, and so is the CLI's start-up."""
    import json

    from traderctl.simulator.threaded import SimTWSThread

    root = workdir("bench_history_", scale)
    end = last_weekday() + timedelta(days=1)
    start = end - timedelta(days=days)
    with SimTWSThread(host="127.0.0.1", port=0, time_scale=scale) as sim:
        base = [sys.executable, "-m", "traderctl", "--set", f"ib.port={sim.port}",
                "--log-level", "warning", "history", "download", *SYMBOLS[:n],
                "--bar-size", size, "--rth"]
        subprocess.run([*base, "--start", start.isoformat(), "--end", start.isoformat()],
                       cwd=root, capture_output=True)  # resolve first, not timed
        cpu0 = time.process_time()  # this process is the simulator
        done = subprocess.run([*base, "--start", start.isoformat(), "--end", end.isoformat(),
                               "--concurrency", str(concurrency), "--json"],
                              cwd=root, capture_output=True, text=True)
        sim_cpu = time.process_time() - cpu0
        sent = [r.at.timestamp() for r in sim.requests_named("reqHistoricalData")]
    planned = sum(r["requests"] for r in json.loads(done.stdout))
    window = 600 * scale
    first, span = sent[0], sent[-1] - sent[0]
    counts = [sum(1 for t in sent if first + k * window <= t < first + (k + 1) * window)
              for k in range(int(span // window))]
    mean = sum(counts) / len(counts) if counts else float("nan")
    print(f"small bars ({size}, RTH, {n} symbols x {days} day(s), concurrency {concurrency}) "
          f"at time scale {scale}: {planned} requests in {span:.1f} s at the simulator; "
          f"per full 10-min window {counts}, mean {mean:.1f} = {mean / 60:.0%} of IB's 60; "
          f"sent {len(sent)}, pacing violations {len(sent) - planned}; simulator CPU "
          f"{sim_cpu / max(len(sent), 1) * 1000:.0f} ms/request; exit {done.returncode}")


def large(n: int, days: int, scale: float, concurrency: int) -> None:
    """1-min bars (soft rules: the in-flight cap of 50 and the soft rate) for ``n`` symbols
    x ``days`` calendar days through a real ``history download`` against the simulator:
    wall time and requests per second, and the planner's count against the minimum."""
    import json

    from traderctl.simulator.scenario import Scenario
    from traderctl.simulator.threaded import SimTWSThread

    root = workdir("bench_history_large_", scale)
    end = last_weekday() + timedelta(days=1)
    start = end - timedelta(days=days)
    # the universe file has 174 US stocks (and ~1,700 other listings, options mostly):
    # synthesize the rest, deterministic, 55% of them in the US
    scenario = Scenario.from_dict({"universe": {"size": 2000 + 2 * n}})
    with SimTWSThread(host="127.0.0.1", port=0, time_scale=scale, scenario=scenario) as sim:
        universe = _us_stocks(sim.sim.universe, n)
        base = [sys.executable, "-m", "traderctl", "--set", f"ib.port={sim.port}",
                "--log-level", "warning", "history", "download", *universe,
                "--bar-size", "1 min"]
        subprocess.run([*base, "--start", start.isoformat(), "--end", start.isoformat()],
                       cwd=root, capture_output=True)  # resolve first, not timed
        t0, cpu0 = time.perf_counter(), time.process_time()
        done = subprocess.run([*base, "--start", start.isoformat(), "--end", end.isoformat(),
                               "--concurrency", str(concurrency), "--json"],
                              cwd=root, capture_output=True, text=True)
        wall, sim_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        sent = [r.at.timestamp() for r in sim.requests_named("reqHistoricalData")]
    rows = json.loads(done.stdout)
    planned = sum(r["requests"] for r in rows)
    span = sent[-1] - sent[0] if len(sent) > 1 else float("nan")
    print(f"1 min bars, {len(rows)} symbols x {days} days at time scale {scale}, concurrency "
          f"{concurrency} (IB's in-flight cap 50): {planned} requests, wall {wall:.1f} s "
          f"(start-up included), {planned / wall:.1f} requests/s; {len(sent) / span:.1f}/s "
          f"between the first and last request at the simulator; sent {len(sent)}; "
          f"simulator CPU {sim_cpu / max(len(sent), 1) * 1000:.0f} ms/request; "
          f"exit {done.returncode}")


def _us_stocks(universe: Any, n: int) -> list[str]:
    """The first ``n`` US stocks of a simulator's universe, one symbol each."""
    found = [lst.symbol for lst in universe.listings
             if lst.sec_type == "STK" and lst.currency == "USD"]
    return list(dict.fromkeys(found))[:n]


def planner(symbols: int) -> None:
    from traderctl.securities import SecurityDefinition
    from traderctl_history.barsizes import bar_size
    from traderctl_history.calendar import Calendar
    from traderctl_history.planner import minimum_requests, plan

    sec = SecurityDefinition(con_id=1, symbol="X", sec_type="STK", exchange="SMART",
                             primary_exchange="NASDAQ", currency="USD",
                             time_zone_id="US/Eastern")
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    for name in ("1 min", "5 mins", "30 secs"):
        size = bar_size(name)
        cal = Calendar(sec, rth=False)
        t0 = time.perf_counter()
        chunks = plan(cal, size, start, end, [])
        took = time.perf_counter() - t0
        low = minimum_requests(cal, size, start, end)
        print(f"planner {name:>7}, 1 year: {len(chunks)} requests, minimum {low} "
              f"(ratio {len(chunks) / low:.3f}); {symbols} symbols: "
              f"{symbols * len(chunks)} requests, planned in {symbols * took:.2f} s")


def storage(symbols: int, bars: int) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from traderctl_history.store import HistoryStore, Series

    root = Path(tempfile.mkdtemp(prefix="bench_history_store_"))
    store = HistoryStore(f"lmdb://{root / 'arctic'}", root / "locks")
    index = pd.date_range("2025-01-02 14:30", periods=bars, freq="1min", tz=UTC, name="time")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.random(bars) for c in
                          ("open", "high", "low", "close", "volume", "wap", "count")},
                         index=index)
    frame["source"] = "ib"
    total = symbols * bars
    t0 = time.perf_counter()
    for i in range(symbols):
        store.lib.write(Series(i + 1, "1 min", "TRADES", False).symbol, frame)
    a_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(symbols):
        store.read(Series(i + 1, "1 min", "TRADES", False))
    a_read = time.perf_counter() - t0
    (root / "pq").mkdir()
    t0 = time.perf_counter()
    for i in range(symbols):
        pq.write_table(pa.Table.from_pandas(frame), root / "pq" / f"{i}.parquet")
    p_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(symbols):
        pq.read_table(root / "pq" / f"{i}.parquet").to_pandas()
    p_read = time.perf_counter() - t0
    print(f"storage, {symbols} symbols x {bars} bars: ArcticDB LMDB write "
          f"{total / a_write:,.0f} bars/s, read {total / a_read:,.0f} bars/s; Parquet "
          f"write {total / p_write:,.0f} bars/s, read {total / p_read:,.0f} bars/s "
          f"(ArcticDB/Parquet: write {p_write / a_write:.2f}x, read {p_read / a_read:.2f}x)")


def status(symbols: int) -> None:
    """``history status --json`` (a child process, start-up included) on a store of
    ``symbols`` series of one RTH day of 1-min bars each."""
    import numpy as np
    import pandas as pd

    from traderctl.securities import SecurityDefinition
    from traderctl_history.store import HistoryStore, Series, Write

    root = Path(tempfile.mkdtemp(prefix="bench_history_status_"))
    (root / "configs").mkdir()
    (root / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {root}/none.sock\n  data_dir: {root}/data\n")
    data = root / "data" / "history"
    store = HistoryStore(f"lmdb://{data / 'arctic'}", data / "locks")
    t0 = datetime(2025, 6, 2, 13, 30, tzinfo=UTC)
    index = pd.date_range(t0, periods=390, freq="1min", tz=UTC, name="time").as_unit("ns")
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({c: rng.random(390) for c in
                          ("open", "high", "low", "close", "volume", "wap", "count")},
                         index=index)
    frame["source"] = "ib"
    span = (t0, t0 + timedelta(minutes=390))
    writes = [Write(Series(1000 + i, "1 min", "TRADES", False),
                    SecurityDefinition(con_id=1000 + i, symbol=f"S{i}", sec_type="STK",
                                       exchange="SMART", primary_exchange="NASDAQ",
                                       currency="USD", time_zone_id="US/Eastern"),
                    span, frame, "ib") for i in range(symbols)]
    for i in range(0, symbols, 500):
        store.write_many(writes[i:i + 500])
    del store
    from traderctl_history.jobs import close_stores

    close_stores()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "traderctl", "history", "status",
                               "--json"], cwd=root, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
    import json

    rows = len(json.loads(done.stdout))
    print(f"history status --json, {symbols} series: {rows} rows, best {min(times):.2f} s, "
          f"median {sorted(times)[1]:.2f} s (CLI start-up and arcticdb import included)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=24)
    parser.add_argument("--scale", type=float, default=0.005)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=["planner", "storage", "status", "pacing", "large"])
    parser.add_argument("--large", default="100x30",
                        help="SYMBOLSxDAYS of the 1-min download (--only large)")
    args = parser.parse_args()
    if args.only in (None, "planner"):
        planner(500)
    if args.only in (None, "storage"):
        storage(50, 100_000)
    if args.only in (None, "status"):
        status(5000)
    if args.only == "large":
        n, days = (int(x) for x in args.large.split("x"))
        large(n, days, args.scale, 50)
    if args.only in (None, "pacing"):
        # 5-second bars: 720 a request, what the simulator can build 20 times a second;
        # 1-second bars (1,800 a request) show the simulator's own ceiling
        pacing(args.symbols, args.scale, "5 secs", args.days, args.concurrency)
        pacing(min(args.symbols, 16), args.scale, "1 secs", 1, args.concurrency)


if __name__ == "__main__":
    main()
