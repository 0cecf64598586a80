"""`traderctl history download` against the simulator with the real ib_async client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.plugins.history.conftest import hist_requests, planned, weekdays_back

pytestmark = pytest.mark.timeout(90)


def show(history_cli: Any, *args: str) -> list[dict[str, Any]]:
    result = history_cli(None, "show", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_download_writes_every_session_bar_and_a_rerun_asks_nothing(  # type: ignore[no-untyped-def]
        history_cli, sim_tws) -> None:
    start, end = weekdays_back(4), weekdays_back(1)
    first = planned(history_cli(sim_tws, "download", "AAPL", "--start", start.isoformat(),
                                "--end", end.isoformat(), "--json"))
    # three weekdays, one request each (1 min bars: a day per request), nothing more sent
    assert first["AAPL"]["requests"] == 3
    assert len(hist_requests(sim_tws)) == 3
    bars = show(history_cli, "AAPL", "--tz", "exchange")
    assert len(bars) == 3 * 16 * 60  # 04:00-20:00 New York
    assert len({b["time"] for b in bars}) == len(bars)
    assert {datetime.fromisoformat(b["time"]).weekday() for b in bars} <= {0, 1, 2, 3, 4}
    sim_tws.stop()  # TWS down: the complete range is answered from the store
    again = planned(history_cli(sim_tws, "download", "AAPL", "--start", start.isoformat(),
                                "--end", end.isoformat(), "--json"))
    assert again["AAPL"]["requests"] == 0


def test_small_bars_stay_within_ibs_hard_pacing(history_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    day = weekdays_back(2)
    ny = ZoneInfo("America/New_York")
    start = datetime.combine(day, datetime.min.time().replace(hour=9, minute=30), ny)
    end = start + timedelta(hours=2)
    result = planned(history_cli(sim_tws, "download", "AAPL", "--bar-size", "5 secs",
                                 "--start", start.isoformat(), "--end", end.isoformat(),
                                 "--json"))
    # 2 h of 5-second bars at IB's 3600 s per request: two requests, each sent once (a
    # pacing violation would have made the engine ask again)
    assert result["AAPL"]["requests"] == 2
    assert len(hist_requests(sim_tws)) == 2
    bars = show(history_cli, "AAPL", "--bar-size", "5 secs")
    assert len(bars) == 2 * 720
    assert datetime.fromisoformat(bars[0]["time"]) == start


def test_non_us_exchange_bars_align_with_its_sessions(history_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    start, end = weekdays_back(3), weekdays_back(1)
    planned(history_cli(sim_tws, "download", "BHP:ASX", "--start", start.isoformat(),
                        "--end", end.isoformat(), "--json"))
    bars = show(history_cli, "BHP:ASX", "--tz", "exchange")
    sydney = ZoneInfo("Australia/Sydney")
    days: dict[Any, list[datetime]] = {}
    for b in bars:
        local = datetime.fromisoformat(b["time"])
        assert local.utcoffset() == local.astimezone(sydney).utcoffset()
        days.setdefault(local.date(), []).append(local)
    assert sorted(days) == sorted({start + timedelta(days=i) for i in range(7)
                                   if (start + timedelta(days=i)) < end
                                   and (start + timedelta(days=i)).weekday() < 5})
    for stamps in days.values():
        assert (stamps[0].hour, stamps[0].minute) == (10, 0)
        assert (stamps[-1].hour, stamps[-1].minute) == (15, 59)
    utc = show(history_cli, "BHP:ASX", "--tz", "utc")
    assert datetime.fromisoformat(utc[0]["time"]).tzinfo == UTC or \
        datetime.fromisoformat(utc[0]["time"]).utcoffset() == timedelta(0)


def test_rth_keeps_to_liquid_hours(history_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    day = weekdays_back(1)
    planned(history_cli(sim_tws, "download", "AAPL", "--rth", "--start", day.isoformat(),
                        "--end", (day + timedelta(days=1)).isoformat(), "--json"))
    rth = [r for r in json.loads(history_cli(None, "status", "--json").stdout) if r["rth"]]
    assert rth and rth[0]["bars"] == 390
    (request,) = hist_requests(sim_tws)
    assert "1" in request.fields  # useRTH went out as 1


def test_a_configured_holiday_is_not_asked_for(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, data_dir: Path) -> None:
    from tests.plugins.history.conftest import write_config

    start = weekdays_back(4)
    holiday = weekdays_back(3)
    write_config(data_dir.parent, f"history:\n  holidays: [NASDAQ:{holiday.isoformat()}]\n")
    result = planned(history_cli(sim_tws, "download", "AAPL", "--start", start.isoformat(),
                                 "--end", weekdays_back(1).isoformat(), "--json"))
    assert result["AAPL"]["requests"] == 2
    dates = {datetime.fromisoformat(b["time"]).date() for b in show(history_cli, "AAPL")}
    assert holiday not in dates and len(dates) == 2
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert status[0]["gaps"] == 0  # the holiday is no gap: the exchange was closed


def test_no_data_is_recorded_not_asked_again_unless_refresh(history_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    # IB has no TRADES for a currency pair: error 162 "HMDS query returned no data" (or
    # "No historical market data"), an answer and not a pacing violation
    args = ("download", "EUR::USD", "--sec-type", "CASH", "--route", "IDEALPRO",
            "--start", weekdays_back(2).isoformat(), "--end", weekdays_back(1).isoformat(),
            "--json")
    first = planned(history_cli(sim_tws, *args))
    asked = len(hist_requests(sim_tws))
    assert first["EUR"]["requests"] >= 1 and asked == first["EUR"]["requests"]
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert status[0]["bars"] == 0 and status[0]["no_data_spans"] >= 1
    assert planned(history_cli(sim_tws, *args))["EUR"]["requests"] == 0
    again = planned(history_cli(sim_tws, *args, "--refresh"))
    assert again["EUR"]["requests"] == first["EUR"]["requests"]
    assert len(hist_requests(sim_tws)) == 2 * asked


def test_bad_input_is_a_usage_error(history_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    assert history_cli(sim_tws, "download", "AAPL", "--start", "yesterday").exit_code == 2
    assert history_cli(sim_tws, "download", "AAPL", "--start", "2025-01-01",
                       "--bar-size", "7 mins").exit_code == 2
    assert history_cli(None, "show", "NOSUCH").exit_code == 2
