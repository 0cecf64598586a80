"""Which sessions an exchange had between two instants, for the planner and the gap count.

IB publishes a contract's sessions for about a week (``tradingHours``/``liquidHours``,
closures included). Inside that window those sessions are used as they are; outside it
each weekday repeats the local open/close times last published for that weekday (so a
DST change moves the UTC times, as it does at the exchange), weekdays never published
open (weekends) are closed, and ``history.holidays`` (``EXCHANGE:YYYY-MM-DD``) closes
further days. A security without published hours trades Monday to Friday, all day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from traderctl.securities import SecurityDefinition

Span = tuple[datetime, datetime]


class Calendar:
    def __init__(self, security: SecurityDefinition, rth: bool,
                 holidays: Iterable[str] = ()) -> None:
        self.security = security
        self.hours = security.hours(liquid=rth)
        self.closed = _holidays(security, holidays)
        self.template = self._template()

    def _template(self) -> dict[int, list[tuple[time, time, int]]]:
        """Weekday -> (local open, local close, days from the trade date to the open)."""
        zone = self.security.zone
        found: dict[int, list[tuple[time, time, int]]] = {}
        for day in sorted(self.hours.dates):
            sessions = self.hours.on(day) or ()
            if sessions:
                found[day.weekday()] = [
                    (s.open.astimezone(zone).time(), s.close.astimezone(zone).time(),
                     (s.open.astimezone(zone).date() - day).days) for s in sessions]
        if not self.hours.dates:
            found = {wd: [(time(0), time(0), 0)] for wd in range(5)}
        return found

    def sessions(self, day: date) -> list[Span]:
        """Sessions of trade date ``day`` as UTC spans (empty: closed)."""
        if day in self.closed:
            return []
        published = self.hours.on(day)
        if published is not None:
            return [(s.open, s.close) for s in published]
        zone = self.security.zone
        spans = []
        for open_, close, offset in self.template.get(day.weekday(), []):
            start = datetime.combine(day + timedelta(days=offset), open_, zone)
            end = datetime.combine(day, close, zone)
            if end <= start:
                end = datetime.combine(day + timedelta(days=offset + 1), close, zone)
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
        return spans

    def between(self, start: datetime, end: datetime) -> list[Span]:
        """Every session overlapping ``[start, end)``, clipped to it, in order."""
        zone = self.security.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        found = []
        while day <= last:
            for open_, close in self.sessions(day):
                lo, hi = max(open_, start), min(close, end)
                if lo < hi:
                    found.append((lo, hi))
            day += timedelta(days=1)
        return sorted(set(found))


def _holidays(security: SecurityDefinition, holidays: Iterable[str]) -> set[date]:
    names = {security.exchange.upper(), security.primary_exchange.upper()}
    closed = set()
    for item in holidays:
        exchange, _, day = item.rpartition(":")
        if not exchange or exchange.upper() in names:
            closed.add(date.fromisoformat(day))
    return closed
