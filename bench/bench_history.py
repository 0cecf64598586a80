"""traderctl-history: small-bar pacing utilisation against the simulator, the planner's
request count against the minimum, ArcticDB write/read beside Parquet (pyarrow).

    .venv/bin/python bench/bench_history.py [--symbols 8] [--scale 0.005]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SYMBOLS = ["AAPL", "MSFT", "IBM", "AMZN", "GOOG", "META", "NVDA", "TSLA", "JPM", "XOM"]


def last_weekday() -> date:
    day = datetime.now(UTC).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def pacing(n: int, scale: float) -> None:
    from traderctl.simulator.threaded import SimTWSThread

    root = Path(tempfile.mkdtemp(prefix="bench_history_"))
    (root / "configs").mkdir()
    (root / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {root}/none.sock\n  data_dir: {root}/data\n"
        f"jobs:\n  time_scale: {scale}\n  poll: 0.05\n")
    day = last_weekday()
    with SimTWSThread(host="127.0.0.1", port=0, time_scale=scale) as sim:
        args = [sys.executable, "-m", "traderctl", "--set", f"ib.port={sim.port}",
                "--log-level", "warning", "history", "download", *SYMBOLS[:n],
                "--bar-size", "1 secs", "--rth", "--start", day.isoformat(),
                "--end", (day + timedelta(days=1)).isoformat(), "--concurrency", "8",
                "--json"]
        subprocess.run([*args[:-8], "--start", day.isoformat(), "--end", day.isoformat()],
                       cwd=root, capture_output=True)  # resolve first, not timed
        t0 = time.perf_counter()
        done = subprocess.run(args, cwd=root, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        sent = len(sim.requests_named("reqHistoricalData"))
    import json

    planned = sum(r["requests"] for r in json.loads(done.stdout))
    window = 600 * scale
    per_window = planned / (wall / window)
    print(f"small bars (1 secs, RTH, {n} symbols x 1 day) at time scale {scale}: "
          f"{planned} requests in {wall:.1f} s = {per_window:.1f} per 10-min window "
          f"({per_window / 60:.0%} of IB's 60); sent {sent}, retried {sent - planned} "
          f"(pacing violations: {sent - planned}); exit {done.returncode}")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--scale", type=float, default=0.005)
    args = parser.parse_args()
    planner(500)
    storage(50, 100_000)
    pacing(args.symbols, args.scale)


if __name__ == "__main__":
    main()
