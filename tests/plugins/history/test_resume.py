"""kill -9 of a real `traderctl history download` mid-run, then rerun: no bar missing, none
twice, the store equal bar for bar to a clean download of the same range."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.history.conftest import hist_requests, weekdays_back, write_config

pytestmark = pytest.mark.timeout(120)


def done_jobs(data: Path) -> int:
    path = data / "jobs" / "jobs.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'done'")
                       .fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def all_done(data: Path) -> bool:
    found = states(data)
    return bool(found) and all(state == "done" for state, _, _ in found)


def states(data: Path) -> list[Any]:
    with sqlite3.connect(f"file:{data / 'jobs' / 'jobs.sqlite'}?mode=ro", uri=True) as db:
        return db.execute("SELECT state, attempts, last_error FROM jobs").fetchall()


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def download(root: Path, env: dict[str, str], port: int, concurrency: int = 1,
             days: int = 1) -> subprocess.Popen[str]:
    args = ["--set", f"ib.port={port}", "--log-level", "warning", "history", "download",
            "AAPL", "--bar-size", "5 secs", "--rth", "--start",
            weekdays_back(1 + days).isoformat(), "--end", weekdays_back(1).isoformat(),
            "--concurrency", str(concurrency)]
    return subprocess.Popen([sys.executable, "-m", "traderctl", *args], cwd=root,
                            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def frame(data: Path) -> Any:
    from traderctl_history.store import HistoryStore, Series

    store = HistoryStore(f"lmdb://{data / 'history' / 'arctic'}", data / "history" / "locks")
    return store.read(Series(265598, "5 secs", "TRADES", True))


@pytest.mark.parametrize(("concurrency", "days"), [(1, 1), (4, 3)])
def test_kill_9_mid_download_then_rerun_equals_a_clean_download(  # type: ignore[no-untyped-def]
        sim_tws, clean_env: dict[str, str], tmp_path: Path, concurrency: int,
        days: int) -> None:
    """With concurrency 4 the jobs' writes are committed in batches: a kill lands between
    a batch's commit and its jobs' ``done``, or with answers waiting for a commit."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed_data, clean_data = write_config(killed), write_config(clean)
    sim_tws.set_delay(0.25)  # slow replies so the kill lands mid-batch
    first = download(killed, clean_env, sim_tws.port, concurrency, days)
    try:
        wait_for(lambda: done_jobs(killed_data) >= 2 * concurrency or first.poll() is not None,
                 60)
        assert first.poll() is None, "finished before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.communicate()
    sim_tws.set_delay(0.0)
    rerun = download(killed, clean_env, sim_tws.port, concurrency, days)
    _, err = rerun.communicate(timeout=90)
    assert rerun.returncode == 0, err
    reference = download(clean, clean_env, sim_tws.port, concurrency, days)
    _, err = reference.communicate(timeout=90)
    assert reference.returncode == 0, err
    resumed, fresh = frame(killed_data), frame(clean_data)
    assert len(fresh) == days * 390 * 12  # RTH days of 5-second bars
    assert resumed.index.is_unique
    assert resumed.equals(fresh)
    # 7 requests a day; the rerun asked only for what the killed run had not written
    # (at most those in flight again), never the whole range twice
    assert len(hist_requests(sim_tws)) <= 7 * days * 2 + concurrency


def test_the_worker_finishes_what_a_killed_download_left(  # type: ignore[no-untyped-def]
        sim_tws, clean_env: dict[str, str], tmp_path: Path) -> None:
    """`history worker` (the supervised service) picks up the jobs of a download killed
    with -9 (their leases lapse, or their owner is found dead) and completes them: the
    store then equals a clean download, with no rerun of the download."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed_data, clean_data = write_config(killed), write_config(clean)
    sim_tws.set_delay(0.25)
    first = download(killed, clean_env, sim_tws.port, 2, 2)
    try:
        wait_for(lambda: done_jobs(killed_data) >= 2 or first.poll() is not None, 60)
        assert first.poll() is None, "finished before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.communicate()
    sim_tws.set_delay(0.0)
    worker = subprocess.Popen(
        [sys.executable, "-m", "traderctl", "--set", f"ib.port={sim_tws.port}",
         "--log-level", "warning", "history", "worker", "--concurrency", "2"],
        cwd=killed, env={**clean_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        finished = until(lambda: all_done(killed_data) or worker.poll() is not None, 90)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert finished and all_done(killed_data), f"{states(killed_data)}\n{err}"
    assert worker.returncode == 0, err
    reference = download(clean, clean_env, sim_tws.port, 2, 2)
    _, err = reference.communicate(timeout=90)
    assert reference.returncode == 0, err
    resumed, fresh = frame(killed_data), frame(clean_data)
    assert len(fresh) == 2 * 390 * 12
    assert resumed.index.is_unique and resumed.equals(fresh)
