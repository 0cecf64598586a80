"""The store on a real ArcticDB LMDB library: batched writes replace exactly their spans,
one version per symbol and batch, and concurrent jobs' writes are committed together."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from traderctl.securities import SecurityDefinition
from traderctl_history.jobs import BatchWriter
from traderctl_history.store import HistoryStore, Series, Write, empty_frame

SEC = SecurityDefinition(con_id=7, symbol="X", sec_type="STK", exchange="SMART",
                         primary_exchange="NASDAQ", currency="USD", time_zone_id="US/Eastern")
T0 = datetime(2025, 6, 2, 13, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def bars(lo: datetime, n: int, price: float, source: str = "ib") -> Any:
    index = pd.date_range(lo, periods=n, freq="1min", tz=UTC, name="time").as_unit("ns")
    frame = pd.DataFrame({c: np.full(n, price) for c in
                          ("open", "high", "low", "close", "volume", "wap", "count")},
                         index=index)
    frame["source"] = source
    return frame


def span(lo: datetime, n: int) -> tuple[datetime, datetime]:
    return lo, lo + n * MIN


def store_at(tmp_path: Path) -> HistoryStore:
    return HistoryStore(f"lmdb://{tmp_path / 'arctic'}", tmp_path / "locks")


def test_one_batch_of_spans_apart_keeps_the_bars_between_them(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    series = Series(7, "1 min", "TRADES", False)
    store.write(series, SEC, span(T0, 30), bars(T0, 30, 1.0), "ib")
    first, second = T0 + 5 * MIN, T0 + 20 * MIN
    store.write_many([Write(series, SEC, span(first, 5), bars(first, 5, 2.0), "ib"),
                      Write(series, SEC, span(second, 5), bars(second, 5, 3.0), "ib")])
    frame = store.read(series)
    assert len(frame) == 30 and frame.index.is_unique
    close = frame["close"].tolist()
    assert close == [1.0] * 5 + [2.0] * 5 + [1.0] * 10 + [3.0] * 5 + [1.0] * 5
    assert len(store.lib.list_versions(series.symbol)) == 1  # one version, pruned
    assert store.covered(series) == [span(T0, 30)]


def test_a_batch_writes_many_symbols_new_and_old_with_no_data_spans(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    old, new, empty = (Series(i, "1 min", "TRADES", False) for i in (1, 2, 3))
    store.write(old, SEC, span(T0, 10), bars(T0, 10, 1.0), "ib")
    later = T0 + 10 * MIN
    store.write_many([
        Write(old, SEC, span(later, 10), bars(later, 10, 2.0), "ib"),
        Write(old, SEC, span(later + 10 * MIN, 10), empty_frame(), "ib"),
        Write(new, SEC, span(T0, 10), bars(T0, 10, 4.0, "polygon"), "polygon"),
        Write(empty, SEC, span(T0, 10), empty_frame(), "ib"),
    ])
    assert len(store.read(old)) == 20
    assert store.covered(old) == [span(T0, 30)]  # bars, then the no-data span
    assert store.covered(old, refresh=True) == [span(T0, 20)]
    assert store.read(new)["source"].unique().tolist() == ["polygon"]
    assert store.metadata(new)["sources"] == ["polygon"]
    assert len(store.read(empty)) == 0 and store.covered(empty) == [span(T0, 10)]


def test_a_symbol_created_empty_then_written_in_spans_apart(tmp_path: Path) -> None:
    """The first answer for a series was "no data": ArcticDB stores that empty frame with
    a zone-less index, which the next batch's read of the bars between its spans gets."""
    store = store_at(tmp_path)
    series = Series(7, "1 min", "TRADES", False)
    store.write(series, SEC, span(T0, 10), empty_frame(), "ib")
    a, b = T0 + 20 * MIN, T0 + 40 * MIN
    store.write_many([Write(series, SEC, span(a, 10), bars(a, 10, 1.0), "ib"),
                      Write(series, SEC, span(b, 10), bars(b, 10, 2.0), "ib")])
    frame = store.read(series)
    assert len(frame) == 20 and str(frame.index.tz) == "UTC"
    assert store.covered(series) == [span(T0, 10), span(a, 10), span(b, 10)]


def test_a_later_write_of_the_same_span_wins(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    series = Series(7, "1 min", "TRADES", False)
    store.write_many([Write(series, SEC, span(T0, 10), bars(T0, 10, 1.0), "ib"),
                      Write(series, SEC, span(T0, 10), bars(T0, 10, 2.0), "ib")])
    frame = store.read(series)
    assert len(frame) == 10 and set(frame["close"]) == {2.0}


def test_concurrent_jobs_writes_are_committed_together(tmp_path: Path) -> None:
    """Sixteen jobs answering at once: every one returns after its bars are stored, in
    far fewer ArcticDB commits than jobs."""
    store = store_at(tmp_path)
    writer = BatchWriter(store)

    async def job(i: int) -> tuple[int, int]:
        lo = T0 + i * 10 * MIN
        series = Series(100 + i % 4, "1 min", "TRADES", False)
        await writer.write(Write(series, SEC, span(lo, 10), bars(lo, 10, float(i)), "ib"))
        return i, len(store.read(series, lo, lo + 10 * MIN - timedelta(microseconds=1)))

    async def main() -> list[tuple[int, int]]:
        return await asyncio.gather(*(job(i) for i in range(16)))

    done = asyncio.run(main())
    assert [n for _, n in done] == [10] * 16  # each job's bars were there when it returned
    assert writer.commits < 16
    assert sum(len(store.read(Series(100 + k, "1 min", "TRADES", False)))
               for k in range(4)) == 160


def test_a_failed_commit_fails_every_job_of_its_batch(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    writer = BatchWriter(store)
    series = Series(7, "1 min", "TRADES", False)
    store.write(series, SEC, span(T0, 10), bars(T0, 10, 1.0), "ib")
    broken = bars(T0 + 10 * MIN, 10, 1.0)
    broken["close"] = "x"  # not the stored column's type: ArcticDB refuses the update

    async def main() -> list[Any]:
        later = T0 + 20 * MIN
        return await asyncio.gather(
            writer.write(Write(series, SEC, span(T0 + 10 * MIN, 10), broken, "ib")),
            writer.write(Write(series, SEC, span(later, 10), bars(later, 10, 2.0), "ib")),
            return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, Exception) for r in results)  # both retried by the engine
    assert store.covered(series) == [span(T0, 10)]  # neither span recorded
    assert len(store.read(series)) == 10


WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.plugins.history.test_store import SEC, T0, MIN, bars, span
from traderctl_history.store import HistoryStore, Series, Write
store = HistoryStore("lmdb://" + {arctic!r}, Path({locks!r}))
series = Series(7, "1 min", "TRADES", False)
first = int(sys.argv[1])
Path({locks!r} + f".ready{{first}}").touch()
while not Path({locks!r} + ".go").exists():  # start together, imports done
    pass
for k in range(first, 40, 2):  # this process writes every other 10-minute span
    lo = T0 + k * 10 * MIN
    store.write_many([Write(series, SEC, span(lo, 10), bars(lo, 10, float(k)), "ib")])
"""


def test_two_processes_writing_one_symbol_lose_nothing(tmp_path: Path) -> None:
    """Two writers (two downloads, or a download and the worker) interleave spans of one
    symbol: each read-modify-write holds the symbol's lock, so no span and no coverage is
    lost to the other's version."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]
    script = WRITER.format(root=str(repo), arctic=str(tmp_path / "arctic"),
                           locks=str(tmp_path / "locks"))
    store_at(tmp_path)  # create the library before the writers race to
    procs = [subprocess.Popen([sys.executable, "-c", script, str(first)])
             for first in (0, 1)]
    locks = str(tmp_path / "locks")
    deadline = time.monotonic() + 60
    while not all(Path(f"{locks}.ready{k}").exists() for k in (0, 1)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.02)
    Path(f"{locks}.go").touch()
    assert [p.wait(60) for p in procs] == [0, 0]
    store = store_at(tmp_path)
    series = Series(7, "1 min", "TRADES", False)
    frame = store.read(series)
    assert len(frame) == 400 and frame.index.is_unique
    assert frame["close"].tolist() == [float(k) for k in range(40) for _ in range(10)]
    assert store.covered(series) == [span(T0, 400)]
