"""IB's hard small-bar rules across window boundaries: a download of several windows'
worth of requests against the simulator counting violations, at a time scale where the
window (3 s) is short against the simulator's queue of requests in progress (its count
lags our grant by that queue: counted from the grant, this download broke "60 in 10
minutes" several times)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.history.conftest import hist_requests, weekdays_back

pytestmark = pytest.mark.timeout(180)
SCALE = 0.005
SYMBOLS = ["AAPL", "MSFT", "IBM", "AMZN", "GOOG", "META", "NVDA", "TSLA", "JPM", "XOM", "KO",
           "PEP", "WMT", "DIS", "INTC", "CSCO", "ORCL", "NFLX", "ADBE", "CRM", "BAC", "WFC",
           "C", "GS"]


@pytest.fixture
def sim_tws_config() -> dict[str, Any]:
    return {"time_scale": SCALE}


def test_several_windows_of_small_bar_requests_have_no_violation(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, tmp_path: Path) -> None:
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/run/none.sock\n  data_dir: {tmp_path}/data\n"
        f"jobs:\n  time_scale: {SCALE}\n  poll: 0.05\n")
    result = history_cli(sim_tws, "download", *SYMBOLS, "--bar-size", "5 secs", "--rth",
                         "--start", weekdays_back(3).isoformat(), "--end",
                         weekdays_back(1).isoformat(), "--concurrency", "8", "--json")
    assert result.exit_code == 0, result.output
    planned = sum(r["requests"] for r in json.loads(result.stdout))
    assert planned == 2 * 7 * len(SYMBOLS)
    sent = [r.at.timestamp() for r in hist_requests(sim_tws)]
    assert len(sent) == planned  # a violation would have been asked again
    window = 600 * SCALE
    assert max(sum(1 for t in sent if s <= t < s + window) for s in sent) <= 60
    assert sent[-1] - sent[0] >= 5 * window  # 336 requests: more than five windows
