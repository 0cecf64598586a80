"""kill -9 of a real `traderctl symbols resolve` mid-run, then resume: nothing lost, each
symbol recorded once, IB asked again only for what was in flight."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.symbols.conftest import traderctl_child
from traderctl.simulator.universe import DEFAULT_UNIVERSE

pytestmark = pytest.mark.timeout(120)
UNIVERSE = DEFAULT_UNIVERSE
CONCURRENCY = 8


def stock_symbols(n: int) -> list[str]:
    contracts = json.loads(UNIVERSE.read_text())["contracts"]
    unique = dict.fromkeys(c["symbol"] for c in contracts if c["secType"] == "STK")
    return list(unique)[:n]


def recorded(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM lookups").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_kill_9_mid_resolution_then_resume(sim_tws, child_env: dict[str, str],  # type: ignore[no-untyped-def]
                                           data_dir: Path, tmp_path: Path) -> None:
    symbols = [*stock_symbols(120), "NOSUCH1", "NOSUCH2"]
    listing = tmp_path / "symbols.csv"
    listing.write_text("symbol\n" + "\n".join(symbols) + "\n")
    args = ["--set", f"ib.port={sim_tws.port}", "--log-level", "warning", "symbols",
            "resolve", "--file", str(listing), "--universe", "big", "--concurrency",
            str(CONCURRENCY), "--json"]
    store = data_dir / "symbols" / "universe.sqlite"
    first = traderctl_child(args, child_env, tmp_path)
    try:
        wait_for(lambda: recorded(store) >= 30 or first.poll() is not None, 60)
        assert first.poll() is None, "finished before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.communicate(timeout=30)
    done_before = recorded(store)
    assert 30 <= done_before < len(symbols)
    asked_before = len(sim_tws.requests_named("reqContractDetails"))

    second = traderctl_child(args, child_env, tmp_path)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 1, err[-3000:]  # the two unknown symbols
    results = json.loads(out)["results"]
    assert [r["symbol"] for r in results] == symbols
    assert json.loads(out)["counts"] == {"resolved": 120, "unknown": 2, "failed": 0}
    assert sum(r["from_store"] for r in results) == done_before
    asked = [r.fields[4] for r in sim_tws.requests_named("reqContractDetails")]
    # asked again at most what was in flight when the first run died
    assert len(asked) - len(symbols) <= CONCURRENCY
    assert set(asked) == set(symbols) and len(asked) - asked_before <= len(symbols) - done_before \
        + CONCURRENCY
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM members WHERE universe = 'big'").fetchone()[0] \
            == len(symbols)
        assert db.execute("SELECT COUNT(*) FROM lookups").fetchone()[0] == len(symbols)
    # IB's message rate held across both processes by the shared limiter: never 50 paced
    # requests in one second (ib_async's own connect handshake is not paced by the engine)
    stamps = [r.at.timestamp() for r in sim_tws.requests_named("reqContractDetails")]
    assert max(sum(1 for t in stamps[i:] if t - start < 1.0)
               for i, start in enumerate(stamps)) < 50


def test_dropped_connections_mid_batch_are_retried(sim_tws, child_env: dict[str, str],  # type: ignore[no-untyped-def]
                                                   data_dir: Path, tmp_path: Path) -> None:
    symbols = stock_symbols(80)
    listing = tmp_path / "symbols.csv"
    listing.write_text("symbol\n" + "\n".join(symbols) + "\n")
    store = data_dir / "symbols" / "universe.sqlite"
    child = traderctl_child(["--set", f"ib.port={sim_tws.port}", "--set", "jobs.retry.base=0.2",
                             "--log-level", "warning", "symbols", "resolve", "--file",
                             str(listing), "--json"], child_env, tmp_path)
    try:
        wait_for(lambda: recorded(store) >= 20 or child.poll() is not None, 60)
        sim_tws.drop_connections()
        out, err = child.communicate(timeout=90)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err[-3000:]
    assert json.loads(out)["counts"] == {"resolved": 80, "unknown": 0, "failed": 0}
