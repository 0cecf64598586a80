"""The planner and the calendar on their own: DST, holidays, IB's largest durations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from traderctl.securities import SecurityDefinition
from traderctl_history.barsizes import bar_size
from traderctl_history.calendar import Calendar
from traderctl_history.planner import minimum_requests, plan

# IB's tradingHours for a week straddling New York's 2025 DST start (Sunday 9 March)
HOURS = ";".join(f"202503{d:02d}:0400-202503{d:02d}:2000" for d in (3, 4, 5, 6, 7, 10, 11))
LIQUID = ";".join(f"202503{d:02d}:0930-202503{d:02d}:1600" for d in (3, 4, 5, 6, 7, 10, 11))


def aapl(hours: str = HOURS, liquid: str = LIQUID) -> SecurityDefinition:
    return SecurityDefinition(con_id=265598, symbol="AAPL", sec_type="STK", exchange="SMART",
                              primary_exchange="NASDAQ", currency="USD",
                              time_zone_id="US/Eastern",
                              trading_hours=hours + ";20250308:CLOSED;20250309:CLOSED",
                              liquid_hours=liquid + ";20250308:CLOSED;20250309:CLOSED")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_sessions_move_in_utc_across_the_dst_change() -> None:
    cal = Calendar(aapl(), rth=True)
    assert cal.sessions(date(2025, 3, 7)) == [(utc(2025, 3, 7, 14, 30), utc(2025, 3, 7, 21))]
    assert cal.sessions(date(2025, 3, 10)) == [(utc(2025, 3, 10, 13, 30), utc(2025, 3, 10, 20))]
    # outside the published week the weekday template keeps the local times
    assert cal.sessions(date(2025, 11, 3)) == [(utc(2025, 11, 3, 14, 30), utc(2025, 11, 3, 21))]
    assert cal.sessions(date(2025, 3, 8)) == []


def test_a_published_closure_and_a_configured_holiday_are_not_asked_for() -> None:
    closed = aapl(HOURS.replace("20250305:0400-20250305:2000", "20250305:CLOSED"))
    cal = Calendar(closed, rth=False, holidays=["NASDAQ:2025-03-06", "LSE:2025-03-07"])
    chunks = plan(cal, bar_size("1 min"), utc(2025, 3, 3), utc(2025, 3, 12), [])
    days = [c.start.date() for c in chunks]
    assert days == [date(2025, 3, d) for d in (3, 4, 7, 10, 11)]
    assert all(c.duration == "57600 S" for c in chunks)


def test_requests_use_ibs_largest_duration_and_match_the_minimum() -> None:
    cal = Calendar(aapl(), rth=True)
    start, end = utc(2025, 3, 3), utc(2025, 3, 12)
    five_min = plan(cal, bar_size("5 mins"), start, end, [])
    # 1 W per request: the five days before the weekend, then two
    assert [c.duration for c in five_min] == ["5 D", "2 D"]
    secs = plan(cal, bar_size("30 secs"), start, end, [])
    assert all(int(c.duration.split()[0]) <= 28800 for c in secs)
    assert len(secs) == minimum_requests(cal, bar_size("30 secs"), start, end) == 7
    ones = plan(cal, bar_size("1 secs"), start, end, [])
    assert len(ones) == 7 * 13  # 6.5 h in 1800 s requests


def test_covered_spans_are_not_planned_again() -> None:
    cal = Calendar(aapl(), rth=True)
    start, end = utc(2025, 3, 3), utc(2025, 3, 8)
    covered = [(utc(2025, 3, 3, 14, 30), utc(2025, 3, 5, 18))]
    chunks = plan(cal, bar_size("1 min"), start, end, covered)
    assert chunks[0].start == utc(2025, 3, 5, 18) and chunks[0].duration == "10800 S"
    assert [c.start.date() for c in chunks[1:]] == [date(2025, 3, 6), date(2025, 3, 7)]


def test_bad_bar_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown bar size"):
        bar_size("7 mins")
    assert bar_size("1min").name == "1 min" and bar_size("30 secs").small
    assert timedelta(seconds=bar_size("1 hour").seconds) == timedelta(hours=1)
