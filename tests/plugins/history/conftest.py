"""Fixtures for the history plugin: a config under tmp_path with the engine's clocks
scaled like the simulator's, the CLI in-process and as a child process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

SCALE = 0.01  # simulator and engine: IB's 10-minute window lasts 6 s


@pytest.fixture
def sim_tws_config() -> dict[str, Any]:
    return {"time_scale": SCALE}


def write_config(root: Path, extra: str = "") -> Path:
    (root / "configs").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {root}/run/none.sock\n  data_dir: {root}/data\n"
        f"jobs:\n  time_scale: {SCALE}\n  poll: 0.05\n  retry:\n    base: 0.05\n"
        f"    cap: 0.5\n{extra}")
    return root / "data"


@pytest.fixture
def data_dir(tmp_path: Path, clean_env: dict[str, str]) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def history_cli(cli: Callable[..., Result], data_dir: Path) -> Callable[..., Result]:
    """``history_cli(sim, "download", "AAPL", ...)``: the real CLI, plugins from entry points."""
    def run(sim: Any, *args: str) -> Result:
        ib = ("--set", f"ib.port={sim.port}", "--set", "ib.host=127.0.0.1") if sim else (
            "--set", "ib.port=1", "--set", "ib.host=127.0.0.1")
        return cli(*ib, "--log-level", "warning", "history", *args, entry_points=True)
    return run


def weekdays_back(n: int, today: date | None = None) -> date:
    """The date ``n`` weekdays before an anchor: today (UTC), or the latest day before it
    whose six previous weekdays are all full US sessions (no holiday, no half day), so
    counts of bars and requests do not depend on the week the tests run in."""
    return _plain_weekdays_back(n, _clean_anchor(today or datetime.now(UTC).date()))


def _clean_anchor(day: date) -> date:
    from traderctl.simulator.holidays import session_day

    def full(d: date) -> bool:
        trading, early_close = session_day("US", d)
        return trading and early_close is None

    while not all(full(_plain_weekdays_back(k, day)) for k in range(1, 7)):
        day -= timedelta(days=1)
    return day


def _plain_weekdays_back(n: int, day: date) -> date:
    while n:
        day -= timedelta(days=1)
        n -= day.weekday() < 5
    return day


def hist_requests(sim: Any) -> list[Any]:
    return sim.requests_named("reqHistoricalData")


def planned(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return {r["symbol"]: r for r in json.loads(result.stdout)}


@pytest.fixture(autouse=True)
def _fresh_stores() -> Any:
    """The process caches one ArcticDB opening per URI; tests get their own."""
    yield
    from traderctl_history.jobs import close_stores

    close_stores()
