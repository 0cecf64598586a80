"""tradingHours / liquidHours: both IB formats, DST in three hemispheres, holidays, half days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traderctl.securities.sessions import HoursFormatError, Session, parse_hours
from traderctl.securities.zones import NaiveDatetimeError

NY, LONDON, SYDNEY, TOKYO = (ZoneInfo(z) for z in (
    "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Tokyo"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_new_york_across_the_spring_change() -> None:
    # US DST starts Sunday 2026-03-08: 09:30 is 14:30 UTC on Friday, 13:30 UTC on Monday
    hours = parse_hours("20260306:0930-20260306:1600;20260307:CLOSED;20260308:CLOSED;"
                        "20260309:0930-20260309:1600", NY)
    fri, mon = hours.on(date(2026, 3, 6)), hours.on(date(2026, 3, 9))
    assert fri == (Session(utc(2026, 3, 6, 14, 30), utc(2026, 3, 6, 21), date(2026, 3, 6)),)
    assert mon == (Session(utc(2026, 3, 9, 13, 30), utc(2026, 3, 9, 20), date(2026, 3, 9)),)
    assert hours.on(date(2026, 3, 7)) == ()
    assert hours.next_open(utc(2026, 3, 6, 21)) == utc(2026, 3, 9, 13, 30)


def test_london_across_the_spring_change() -> None:
    # UK summer time starts Sunday 2026-03-29
    hours = parse_hours("20260327:0800-20260327:1630;20260328:CLOSED;20260329:CLOSED;"
                        "20260330:0800-20260330:1630", LONDON)
    assert hours.on(date(2026, 3, 27))[0].open == utc(2026, 3, 27, 8)  # type: ignore[index]
    assert hours.on(date(2026, 3, 30))[0].open == utc(2026, 3, 30, 7)  # type: ignore[index]
    assert hours.is_open(utc(2026, 3, 30, 7, 30)) is True
    assert hours.is_open(utc(2026, 3, 27, 7, 30)) is False


def test_sydney_across_the_autumn_change() -> None:
    # Sydney leaves daylight saving Sunday 2026-04-05: 10:00 is 23:00 UTC the day before,
    # then 00:00 UTC the same day
    hours = parse_hours("20260403:1000-20260403:1600;20260404:CLOSED;20260405:CLOSED;"
                        "20260406:1000-20260406:1600", SYDNEY)
    assert hours.on(date(2026, 4, 3))[0].open == utc(2026, 4, 2, 23)  # type: ignore[index]
    assert hours.on(date(2026, 4, 6))[0].open == utc(2026, 4, 6, 0)  # type: ignore[index]
    assert hours.next_close(utc(2026, 4, 3, 1)) == utc(2026, 4, 3, 5)


def test_holiday_and_half_day() -> None:
    # Thanksgiving 2026: closed Thursday, early close Friday
    hours = parse_hours("20261125:0930-20261125:1600;20261126:CLOSED;"
                        "20261127:0930-20261127:1300;20261128:CLOSED", NY)
    wed_close = utc(2026, 11, 25, 21)
    assert hours.on(date(2026, 11, 26)) == ()
    assert hours.is_open(utc(2026, 11, 26, 15)) is False
    assert hours.next_open(wed_close) == utc(2026, 11, 27, 14, 30)
    assert hours.next_close(wed_close) == utc(2026, 11, 27, 18)
    assert hours.is_open(utc(2026, 11, 27, 18, 30)) is False  # after the early close


def test_older_format_and_comma_sessions() -> None:
    old = parse_hours("20261201:0900-1130,1230-1530;20261202:CLOSED", TOKYO)
    new = parse_hours("20261201:0900-20261201:1130;20261201:1230-20261201:1530;"
                      "20261202:CLOSED", TOKYO)
    assert old == new
    assert len(old.on(date(2026, 12, 1)) or ()) == 2
    assert old.is_open(utc(2026, 12, 1, 2, 45)) is False  # 11:45 JST, the lunch break


def test_overnight_session_belongs_to_the_day_it_closes() -> None:
    new = parse_hours("20261201:1700-20261202:1600", ZoneInfo("America/Chicago"))
    old = parse_hours("20261201:1700-1600", ZoneInfo("America/Chicago"))
    assert new == old
    assert [s.trade_date for s in new.sessions] == [date(2026, 12, 2)]


def test_outside_the_published_window_is_unknown() -> None:
    hours = parse_hours("20261201:0930-20261201:1600;20261202:CLOSED", NY)
    assert hours.on(date(2026, 12, 10)) is None
    assert hours.is_open(utc(2026, 12, 10, 15)) is None
    assert hours.next_open(utc(2026, 12, 1, 22)) is None
    assert parse_hours("", NY).is_open(utc(2026, 12, 1, 15)) is None


@pytest.mark.parametrize("text", [
    "20261201", "2026121:0930-1600", "20261201:0930", "20261201:0960-1600",
    "20261201:1600-20261201:0930", "20261301:0930-1600", "20261201:OPEN",
])
def test_malformed_hours_raise(text: str) -> None:
    with pytest.raises(HoursFormatError):
        parse_hours(text, NY)


def test_naive_instants_raise() -> None:
    hours = parse_hours("20261201:0930-20261201:1600", NY)
    with pytest.raises(NaiveDatetimeError):
        hours.is_open(datetime(2026, 12, 1, 10))  # noqa: DTZ001


# ---- properties: any week of sessions, in any of the zones, both formats ----------------

ZONES = st.sampled_from([NY, LONDON, SYDNEY, TOKYO, ZoneInfo("Europe/Brussels")])
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 24))
SPANS = st.tuples(st.integers(0, 22 * 60), st.integers(15, 6 * 60)).filter(
    lambda s: s[0] + s[1] < 24 * 60)


def _week(start: date, spans: list[tuple[int, int] | None]) -> tuple[str, str]:
    """The same sessions written in the current and in the older format."""
    new, old = [], []
    for offset, span in enumerate(spans):
        day = start + timedelta(days=offset)
        if span is None:
            new.append(f"{day:%Y%m%d}:CLOSED")
            old.append(f"{day:%Y%m%d}:CLOSED")
            continue
        o, c = span[0], span[0] + span[1]
        new.append(f"{day:%Y%m%d}:{o // 60:02d}{o % 60:02d}-{day:%Y%m%d}:{c // 60:02d}{c % 60:02d}")
        old.append(f"{day:%Y%m%d}:{o // 60:02d}{o % 60:02d}-{c // 60:02d}{c % 60:02d}")
    return ";".join(new), ";".join(old)


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, start=DAYS, spans=st.lists(st.none() | SPANS, min_size=1, max_size=8),
       probe=st.integers(0, 8 * 24 * 60))
def test_formats_agree_and_queries_are_consistent(
        zone: ZoneInfo, start: date, spans: list[tuple[int, int] | None], probe: int) -> None:
    new_text, old_text = _week(start, spans)
    hours = parse_hours(new_text, zone)
    assert hours == parse_hours(old_text, zone)
    assert all(s.open.tzinfo is UTC and s.open < s.close for s in hours.sessions)
    at = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC) + timedelta(
        minutes=probe)
    inside = any(s.contains(at) for s in hours.sessions)
    state = hours.is_open(at)
    assert state is True if inside else state in (False, None)
    nxt = hours.next_open(at)
    assert nxt is None or (nxt > at and nxt in {s.open for s in hours.sessions})
    close = hours.next_close(at)
    if inside:
        assert close is not None and close > at
    for s in hours.sessions:  # a session's local wall-clock times are the ones written
        lo, lc = s.local(zone)
        assert s.trade_date == lc.date()
        assert f"{lo:%H%M}" in new_text


def test_new_york_across_the_autumn_change_and_an_overnight_session() -> None:
    # US DST ends Sunday 2026-11-01: 09:30 is 13:30 UTC on Friday, 14:30 UTC on Monday
    hours = parse_hours("20261030:0930-20261030:1600;20261031:CLOSED;20261101:CLOSED;"
                        "20261102:0930-20261102:1600", NY)
    assert [s.open for s in hours.sessions] == [utc(2026, 10, 30, 13, 30), utc(2026, 11, 2, 14, 30)]
    # an overnight session opening the evening before the spring change, closing after it
    chicago = ZoneInfo("America/Chicago")
    [sess] = parse_hours("20260307:1700-20260308:1600", chicago).sessions
    assert sess.close - sess.open == timedelta(hours=22)  # 23 wall-clock hours, one skipped


def test_london_across_the_autumn_change() -> None:
    # UK summer time ends Sunday 2026-10-25
    hours = parse_hours("20261023:0800-20261023:1630;20261026:0800-20261026:1630", LONDON)
    assert [s.open for s in hours.sessions] == [utc(2026, 10, 23, 7), utc(2026, 10, 26, 8)]
