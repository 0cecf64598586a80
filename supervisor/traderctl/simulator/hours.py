"""Exchange calendars: weekly session templates expanded into real sessions.

The universe file stores one weekly template per exchange (``Mon-Fri
09:30-16:00`` style, a close at or before the open means "next day", several
entries give lunch breaks). This module turns a template into UTC sessions for
bar generation and into IB's ``YYYYMMDD:HHMM-YYYYMMDD:HHMM;YYYYMMDD:CLOSED``
strings for contract details. Holidays and early closes come from
exchange_calendars (:mod:`.holidays`) when it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from .clock import zone
from .holidays import clip, session_day

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SessionSpec:
    """One weekly recurring session: opens on ``days`` at ``open``."""

    days: frozenset[int]
    open: time
    close: time

    @property
    def overnight(self) -> bool:
        return self.close <= self.open


@dataclass(frozen=True)
class Session:
    """A concrete session in UTC; ``trade_date`` is the local date of its close."""

    open: datetime
    close: datetime
    trade_date: date


def parse_days(text: str) -> frozenset[int]:
    """``Mon-Fri``, ``Sun-Thu``, ``Mon,Wed`` -> weekday numbers (Mon=0)."""
    result: set[int] = set()
    for part in text.lower().split(","):
        part = part.strip()
        if "-" in part:
            first, last = (_DAY_NAMES.index(p.strip()[:3]) for p in part.split("-", 1))
            day = first
            while True:
                result.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
        elif part:
            result.add(_DAY_NAMES.index(part[:3]))
    return frozenset(result)


def _parse_clock(text: str) -> time:
    text = text.replace(":", "")
    return time(int(text[:2]), int(text[2:4]))


def parse_specs(entries: list[dict[str, str]]) -> tuple[SessionSpec, ...]:
    return tuple(
        SessionSpec(parse_days(e["days"]), _parse_clock(e["open"]), _parse_clock(e["close"]))
        for e in entries
    )


@dataclass(frozen=True)
class Calendar:
    """Weekly trading and liquid (regular) hours of one exchange."""

    name: str
    time_zone_id: str
    trading: tuple[SessionSpec, ...]
    liquid: tuple[SessionSpec, ...]

    @classmethod
    def from_dict(cls, name: str, raw: dict) -> Calendar:
        trading = parse_specs(raw["trading"])
        liquid = parse_specs(raw.get("liquid", raw["trading"]))
        return cls(name, raw["timeZoneId"], trading, liquid)

    def specs(self, rth: bool) -> tuple[SessionSpec, ...]:
        return self.liquid if rth else self.trading

    def sessions_opening_on(self, day: date, rth: bool) -> tuple[Session, ...]:
        return _sessions_opening_on(self, day, rth)

    def sessions_between(self, start: datetime, end: datetime, rth: bool) -> list[Session]:
        """Sessions overlapping [start, end), in order."""
        tz = zone(self.time_zone_id)
        first = start.astimezone(tz).date() - timedelta(days=2)
        last = end.astimezone(tz).date() + timedelta(days=1)
        result: list[Session] = []
        day = first
        while day <= last:
            for sess in self.sessions_opening_on(day, rth):
                if sess.close > start and sess.open < end:
                    result.append(sess)
            day += timedelta(days=1)
        result.sort(key=lambda s: s.open)
        return result

    def is_open(self, ts: datetime, rth: bool) -> bool:
        return bool(self.sessions_between(ts, ts + timedelta(microseconds=1), rth))

    def hours_string(self, now: datetime, rth: bool, days: int = 7) -> str:
        """IB's tradingHours / liquidHours text for ``days`` local dates from today."""
        today = now.astimezone(zone(self.time_zone_id)).date()
        return _hours_string(self, today, rth, days)

    def _hours_for(self, today: date, rth: bool, days: int) -> str:
        tz = zone(self.time_zone_id)
        window = self.sessions_between(
            datetime.combine(today, time(), tz).astimezone(UTC),
            datetime.combine(today + timedelta(days=days), time(), tz).astimezone(UTC),
            rth,
        )
        parts: list[str] = []
        for offset in range(days):
            day = today + timedelta(days=offset)
            todays = [s for s in window if s.trade_date == day]
            if not todays:
                parts.append(f"{day:%Y%m%d}:CLOSED")
            for sess in todays:
                o, c = sess.open.astimezone(tz), sess.close.astimezone(tz)
                parts.append(f"{o:%Y%m%d:%H%M}-{c:%Y%m%d:%H%M}")
        return ";".join(parts)


@lru_cache(maxsize=4096)
def _hours_string(cal: Calendar, today: date, rth: bool, days: int) -> str:
    """Cached per local date: contract details are requested far more often than days change."""
    return cal._hours_for(today, rth, days)


@lru_cache(maxsize=8192)
def _sessions_opening_on(cal: Calendar, day: date, rth: bool) -> tuple[Session, ...]:
    tz = zone(cal.time_zone_id)
    result = []
    for spec in cal.specs(rth):
        if day.weekday() not in spec.days:
            continue
        close_day = day + timedelta(days=1) if spec.overnight else day
        trading, early = session_day(cal.name, close_day)
        if not trading:  # a holiday of the exchange: no session trades for that date
            continue
        closed_local = clip(datetime.combine(close_day, spec.close, tz), early)
        opened = datetime.combine(day, spec.open, tz).astimezone(UTC)
        closed = closed_local.astimezone(UTC)
        if closed > opened:
            result.append(Session(opened, closed, close_day))
    result.sort(key=lambda s: s.open)
    return tuple(result)


def group_by_trade_date(sessions: list[Session]) -> list[Session]:
    """Merge sessions sharing a trade date (lunch breaks) into one day span."""
    merged: dict[date, Session] = {}
    for sess in sessions:
        prev = merged.get(sess.trade_date)
        if prev is None:
            merged[sess.trade_date] = sess
        else:
            merged[sess.trade_date] = Session(
                min(prev.open, sess.open), max(prev.close, sess.close), sess.trade_date
            )
    return [merged[d] for d in sorted(merged)]
