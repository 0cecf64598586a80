"""Trading sessions parsed from IB's ``tradingHours`` / ``liquidHours`` strings.

IB publishes about a week of sessions per contract, in the exchange's local
wall-clock time, one ``;``-separated part per session or closed day:

* current format: ``20261201:0930-20261201:1600;20261202:CLOSED`` (a session
  may end on a later date: ``20261201:1700-20261202:1600``), a day with a
  lunch break is two parts with the same date;
* older format: ``20261201:0930-1600`` (the close on the same date, or the
  next one when it is not after the open) and several sessions of one day
  joined by commas: ``20261201:0900-1130,1230-1530``.

A session's ``trade_date`` is the local date of its close (an overnight
futures session belongs to the day it ends), which is also how IB dates
``CLOSED`` days. Days outside the published window are *unknown*, not closed:
the methods return ``None`` for them rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from traderctl.securities.zones import require_utc

_DAY = re.compile(r"^(\d{8})$")
_CLOCK = re.compile(r"^(\d{8}:)?(\d{4})$")


class HoursFormatError(ValueError):
    """A ``tradingHours``/``liquidHours`` string that is not in either IB format."""


@dataclass(frozen=True, order=True)
class Session:
    """One session, open and close as aware UTC; ``trade_date`` is the local close date."""

    open: datetime
    close: datetime
    trade_date: date

    def contains(self, instant: datetime) -> bool:
        return self.open <= instant < self.close

    def local(self, zone: tzinfo) -> tuple[datetime, datetime]:
        return self.open.astimezone(zone), self.close.astimezone(zone)


@dataclass(frozen=True)
class Hours:
    """The published sessions of one contract: sessions in order and the dates covered."""

    sessions: tuple[Session, ...]
    zone: tzinfo
    dates: frozenset[date] = field(default_factory=frozenset)

    @property
    def first_date(self) -> date | None:
        return min(self.dates) if self.dates else None

    @property
    def last_date(self) -> date | None:
        return max(self.dates) if self.dates else None

    def on(self, day: date) -> tuple[Session, ...] | None:
        """Sessions of trade date ``day``; ``()`` when closed, ``None`` outside the window."""
        if day not in self.dates:
            return None
        return tuple(s for s in self.sessions if s.trade_date == day)

    def is_open(self, instant: datetime) -> bool | None:
        """Whether a session runs at ``instant``; ``None`` when it lies outside the window."""
        at = require_utc(instant, "instant")
        if any(s.contains(at) for s in self.sessions):
            return True
        first, last = self.first_date, self.last_date
        day = at.astimezone(self.zone).date()
        if first is None or last is None or not first <= day <= last:
            return None
        return False

    def next_open(self, instant: datetime) -> datetime | None:
        """The first session open after ``instant`` (``None``: none published)."""
        at = require_utc(instant, "instant")
        return next((s.open for s in self.sessions if s.open > at), None)

    def next_close(self, instant: datetime) -> datetime | None:
        """The close of the session running at ``instant``, else of the next one."""
        at = require_utc(instant, "instant")
        return next((s.close for s in self.sessions if s.close > at), None)


def parse_hours(text: str, zone: tzinfo) -> Hours:
    """Parse either IB format in the exchange zone ``zone``; raises :class:`HoursFormatError`."""
    sessions: list[Session] = []
    dates: set[date] = set()
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        day_text, sep, rest = part.partition(":")
        if not sep or not _DAY.match(day_text):
            raise HoursFormatError(f"bad trading-hours part {part!r} in {text!r}")
        day = _date(day_text, part)
        if rest.upper() == "CLOSED":
            dates.add(day)
            continue
        for span in rest.split(","):
            session = _session(day, span.strip(), zone, part)
            sessions.append(session)
            dates.add(session.trade_date)
    return Hours(tuple(sorted(set(sessions))), zone, frozenset(dates))


def _session(day: date, span: str, zone: tzinfo, part: str) -> Session:
    start, sep, end = span.partition("-")
    if not sep:
        raise HoursFormatError(f"bad session {span!r} in {part!r}")
    open_day, open_clock = _clock(start, day, part)
    close_day, close_clock = _clock(end, None, part)
    assert open_day is not None  # the start defaults to the part's date
    opened = _local(open_day, open_clock, zone)
    if close_day is None:  # older format: same date, or the next one when not after the open
        close_day = open_day if close_clock > open_clock else open_day + timedelta(days=1)
    closed = _local(close_day, close_clock, zone)
    if closed <= opened:
        raise HoursFormatError(f"session closes before it opens: {span!r} in {part!r}")
    return Session(opened, closed, close_day)


def _clock(text: str, default_day: date | None, part: str) -> tuple[date | None, time]:
    match = _CLOCK.match(text)
    if not match:
        raise HoursFormatError(f"bad time {text!r} in {part!r}")
    day_text, hhmm = match.groups()
    day = _date(day_text[:-1], part) if day_text else default_day
    hour, minute = int(hhmm[:2]), int(hhmm[2:])
    if hour == 24 and minute == 0:  # some venues write midnight as 2400
        return (day + timedelta(days=1) if day else None), time(0)
    if hour > 23 or minute > 59:
        raise HoursFormatError(f"bad time {text!r} in {part!r}")
    return day, time(hour, minute)


def _date(text: str, part: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        raise HoursFormatError(f"bad date {text!r} in {part!r}") from None


def _local(day: date, clock: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, clock, zone).astimezone(UTC)


def format_sessions(sessions: Iterable[Session], zone: tzinfo) -> list[dict[str, str]]:
    """Sessions for people and JSON: open/close in exchange time and in UTC."""
    rows = []
    for s in sessions:
        lo, lc = s.local(zone)
        rows.append({"trade_date": s.trade_date.isoformat(),
                     "open_local": lo.isoformat(), "close_local": lc.isoformat(),
                     "open_utc": s.open.isoformat(), "close_utc": s.close.isoformat()})
    return rows
