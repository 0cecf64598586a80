"""`history download --source polygon` against a local server answering like Polygon's
aggregates API (pagination with next_url, 429 then a retry, an empty result, Polygon's rate
limit), through the real CLI; bars land in the same series as IB's, tagged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.plugins.history.conftest import (
    SCALE,
    hist_requests,
    planned,
    weekdays_back,
    write_config,
)
from tests.plugins.history.fake_polygon import FakePolygon

pytestmark = pytest.mark.timeout(120)
KEY = "test-polygon-key"
RATE, PER = 5, 60.0  # Polygon's free tier; the engine scales PER by jobs.time_scale


@pytest.fixture
def polygon(tmp_path: Path, data_dir: Path) -> Iterator[FakePolygon]:
    # the fake enforces the same limit as the profile, in the same scaled clock
    with FakePolygon(KEY, page=100, rate=RATE, per=PER * SCALE) as fake:
        write_config(tmp_path, f"history:\n  polygon:\n    url: {fake.url}\n"
                               f"    api_key: {KEY}\n    rate: {RATE}\n    per: {PER}\n")
        yield fake


def show(history_cli: Callable[..., Result], symbol: str, *args: str) -> list[dict[str, Any]]:
    result = history_cli(None, "show", symbol, "--tz", "utc", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def polygon_download(history_cli: Callable[..., Result], sim: Any, *symbols: str,
                     start: int = 3, end: int = 1) -> Result:
    return history_cli(sim, "download", *symbols, "--source", "polygon", "--start",
                       weekdays_back(start).isoformat(), "--end",
                       weekdays_back(end).isoformat(), "--json")


def test_pages_are_followed_paced_and_land_tagged_polygon(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon, data_dir: Path) -> None:
    result = planned(polygon_download(history_cli, sim_tws, "AAPL"))
    assert result["AAPL"]["requests"] == 1  # two days fit one Polygon request
    # 2 days x 16 h (Polygon's extended hours, which IB's calendar has too) of 1-min bars,
    # pages of 100: 20 requests, within 5 per (scaled) minute, none refused
    pages = polygon.requests
    assert len(pages) == 20 and polygon.violations == 0
    assert pages[0]["query"] == {"adjusted": "false", "sort": "asc", "limit": "50000"}
    assert all("cursor" in p["query"] for p in pages[1:])
    assert pages[-1]["at"] - pages[0]["at"] >= (20 // RATE - 1) * PER * SCALE
    assert hist_requests(sim_tws) == []  # nothing asked of TWS
    bars = show(history_cli, "AAPL")
    assert len(bars) == 2 * 16 * 60 and len({b["time"] for b in bars}) == len(bars)
    assert {b["source"] for b in bars} == {"polygon"}
    first = bars[0]
    assert first["open"] > 0 and first["volume"] >= 1000 and first["count"] >= 10
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert [(r["symbol"], r["bars"], r["gaps"], r["sources"]) for r in status] == [
        ("AAPL", 2 * 16 * 60, 0, ["polygon"])]
    again = planned(polygon_download(history_cli, None, "AAPL"))
    assert again["AAPL"]["requests"] == 0 and len(polygon.requests) == 20
    # the key went as a bearer header only: not in any URL, nor in the job store
    assert all(KEY not in p["path"] and KEY not in str(p["query"]) for p in pages)
    jobs = b"".join(p.read_bytes() for p in (data_dir / "jobs").glob("jobs.sqlite*"))
    assert KEY.encode() not in jobs


def test_a_429_is_retried_and_slows_the_profile_down(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    polygon.fail_next = 1
    result = planned(polygon_download(history_cli, sim_tws, "AAPL", start=2))
    assert result["AAPL"]["requests"] == 1
    assert len(polygon.requests) == 1 + 10  # the refused one, then every page once
    assert "limiter_slowed_down" in capsys.readouterr().err + caplog.text
    assert len(show(history_cli, "AAPL")) == 16 * 60


def test_an_empty_result_is_recorded_and_not_asked_again(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon) -> None:
    polygon.empty.add("MSFT")
    planned(polygon_download(history_cli, sim_tws, "MSFT"))
    assert len(polygon.requests) == 1
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert [(r["symbol"], r["bars"], r["no_data_spans"]) for r in status] == [("MSFT", 0, 1)]
    again = planned(polygon_download(history_cli, None, "MSFT"))
    assert again["MSFT"]["requests"] == 0 and len(polygon.requests) == 1


def test_ib_and_polygon_bars_share_one_series_each_tagged(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon) -> None:
    ib = planned(history_cli(sim_tws, "download", "AAPL", "--start",
                             weekdays_back(3).isoformat(), "--end",
                             weekdays_back(2).isoformat(), "--json"))
    assert ib["AAPL"]["requests"] == 1
    # the IB day is stored: Polygon is asked only for the day after it
    poly = planned(polygon_download(history_cli, sim_tws, "AAPL"))
    assert poly["AAPL"]["requests"] == 1 and len(polygon.requests) == 10
    bars = show(history_cli, "AAPL")
    assert len(bars) == 2 * 16 * 60
    assert [b["source"] for b in bars] == ["ib"] * 960 + ["polygon"] * 960
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert status[0]["sources"] == ["ib", "polygon"] and status[0]["gaps"] == 0


def test_a_wrong_key_fails_permanently_and_names_polygon(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon) -> None:
    polygon.key = "another-key"
    result = polygon_download(history_cli, sim_tws, "AAPL", start=2)
    assert result.exit_code == 3
    assert "Polygon HTTP 401: Unknown API Key" in result.output
    assert len(polygon.requests) == 1  # permanent: not asked again
    assert KEY not in result.output


def test_polygon_refuses_what_it_does_not_have(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon) -> None:
    result = history_cli(sim_tws, "download", "AAPL", "--source", "polygon", "--what",
                         "BID_ASK", "--start", weekdays_back(2).isoformat())
    assert result.exit_code == 2 and "source polygon has TRADES, ADJUSTED_LAST" in result.output
    unknown = history_cli(sim_tws, "download", "AAPL", "--source", "nowhere", "--start",
                          weekdays_back(2).isoformat())
    assert unknown.exit_code == 2 and "unknown source 'nowhere'" in unknown.output


def test_daily_aggregates_are_stamped_like_ibs_daily_bars(  # type: ignore[no-untyped-def]
        history_cli, sim_tws, polygon: FakePolygon) -> None:
    from datetime import datetime

    result = planned(history_cli(sim_tws, "download", "AAPL", "--source", "polygon",
                                 "--bar-size", "1 day", "--rth", "--start",
                                 weekdays_back(6).isoformat(), "--end",
                                 weekdays_back(1).isoformat(), "--json"))
    assert result["AAPL"]["requests"] == 1 and len(polygon.requests) == 1
    path = polygon.requests[0]["path"]  # daily: asked by trade date, first day included
    assert path.endswith(f"/range/1/day/{weekdays_back(6).isoformat()}/"
                         f"{weekdays_back(2).isoformat()}")
    bars = show(history_cli, "AAPL", "--bar-size", "1 day", "--tz", "exchange")
    days = [datetime.fromisoformat(b["time"]) for b in bars]
    assert len(days) == 5 and all((d.hour, d.minute) == (9, 30) for d in days)
    assert [d.date() for d in days] == sorted({d.date() for d in days})
    assert {b["source"] for b in bars} == {"polygon"}
