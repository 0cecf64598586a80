"""Daily bars: one per trade date, asked for many days at once, stamped at the session's
open in UTC, only for sessions that closed; a rerun asks nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.plugins.history.conftest import hist_requests, planned, weekdays_back

pytestmark = pytest.mark.timeout(90)
NY = ZoneInfo("America/New_York")


def show(history_cli: Any, *args: str) -> list[dict[str, Any]]:
    result = history_cli(None, "show", "AAPL", "--bar-size", "1 day", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("rth", "opens_at"), [(False, (4, 0)), (True, (9, 30))])
def test_daily_bars_one_request_one_bar_per_session(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, rth: bool, opens_at: tuple[int, int]) -> None:
    start, end = weekdays_back(6), weekdays_back(1)
    flags = ("--rth",) if rth else ()
    args = ("download", "AAPL", "--bar-size", "1 day", *flags, "--start", start.isoformat(),
            "--end", end.isoformat(), "--json")
    first = planned(history_cli(sim_tws, *args))
    assert first["AAPL"]["requests"] == 1  # five trading days in one "5 D" request
    sent = hist_requests(sim_tws)
    assert len(sent) == 1 and "5 D" in sent[0].fields
    bars = show(history_cli, "--tz", "exchange")
    days = [datetime.fromisoformat(b["time"]) for b in bars]
    assert [d.date() for d in days] == [start + timedelta(days=i) for i in range(7)
                                        if (start + timedelta(days=i)).weekday() < 5][:5]
    assert all((d.hour, d.minute) == opens_at for d in days)
    assert all(b["low"] <= min(b["open"], b["close"]) <= b["high"] for b in bars)
    again = planned(history_cli(None, *args))  # TWS not needed: complete
    assert again["AAPL"]["requests"] == 0


def test_plot_of_daily_bars_writes_a_png(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, tmp_path) -> None:
    planned(history_cli(sim_tws, "download", "AAPL", "--bar-size", "1 day", "--rth",
                        "--start", weekdays_back(6).isoformat(), "--end",
                        weekdays_back(1).isoformat(), "--json"))
    out = tmp_path / "daily.png"
    result = history_cli(None, "plot", "AAPL", "--bar-size", "1 day", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    empty = history_cli(None, "plot", "AAPL", "--bar-size", "1 day", "--start",
                        weekdays_back(0).isoformat(), "--out", str(tmp_path / "none.png"))
    assert empty.exit_code == 2 and "no bars in range" in empty.output


def test_todays_forming_daily_bar_is_not_asked_for(  # type: ignore[no-untyped-def]
        history_cli, sim_tws) -> None:
    """Without --end the range ends at the last session that closed."""
    start = weekdays_back(3)
    result = planned(history_cli(sim_tws, "download", "AAPL", "--bar-size", "1 day",
                                 "--start", start.isoformat(), "--json"))
    end = datetime.fromisoformat(result["AAPL"]["end"])
    assert end <= datetime.now(NY)
    assert result["AAPL"]["requests"] == 1
    bars = show(history_cli, "--tz", "utc")
    assert bars and all(datetime.fromisoformat(b["time"]) < end for b in bars)
