"""Time handling at the simulator's edges.

Inside the simulator every datetime is timezone-aware UTC. Strings going to or
coming from the wire are converted here: the TWS login zone (``US/Eastern``
by default) for bar stamps and the handshake, exchange zones for trading hours.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TWS_ZONE = "US/Eastern"
_END_RE = re.compile(r"^(\d{8})(?:[ -]+(\d{1,2}:\d{2}(?::\d{2})?))?(?:\s+(\S+))?$")


def utcnow() -> datetime:
    """Current time, aware UTC."""
    return datetime.now(UTC)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """Cached ZoneInfo lookup (IB's zone ids are IANA names such as US/Eastern)."""
    return ZoneInfo(name)


def valid_zone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def connection_time(now: datetime, tz_name: str) -> str:
    """Handshake connection time: ``YYYYMMDD HH:MM:SS <zone abbreviation>``.

    Real TWS appends a Java display name (``EST``, ``Greenwich Mean Time``);
    ib_async discards the value, the official client only logs it.
    """
    local = now.astimezone(zone(tz_name))
    return f"{local:%Y%m%d %H:%M:%S} {local.tzname()}"


def format_bar_time(ts: datetime, tz_name: str) -> str:
    """Intraday bar stamp for formatDate=1, as modern TWS sends it."""
    local = ts.astimezone(zone(tz_name))
    return f"{local:%Y%m%d %H:%M:%S} {tz_name}"


def parse_end_datetime(text: str, tz_name: str, now: datetime) -> datetime:
    """Parse reqHistoricalData's endDateTime into aware UTC.

    Accepted, as TWS accepts them: empty (now), ``YYYYMMDD HH:MM:SS`` (TWS
    zone), ``YYYYMMDD HH:MM:SS <zone>``, ``YYYYMMDD-HH:MM:SS`` (UTC) and a bare
    ``YYYYMMDD`` (end of that day in the TWS zone). Raises ValueError otherwise.
    """
    text = text.strip()
    if not text:
        return now
    match = _END_RE.match(text)
    if not match:
        raise ValueError(text)
    day, clock, tz_part = match.groups()
    dash_form = "-" in text[8:9]
    if clock is None:
        clock = "23:59:59"
    if clock.count(":") == 1:
        clock += ":00"
    naive = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - zone applied below
    if tz_part:
        tzinfo = UTC if tz_part.upper() in ("UTC", "GMT") else zone(tz_part)
    elif dash_form:
        tzinfo = UTC
    else:
        tzinfo = zone(tz_name)
    return naive.replace(tzinfo=tzinfo).astimezone(UTC)


def scaled(seconds: float, scale: float) -> float:
    """Shrink an IB time window by the simulator's time scale."""
    return seconds * scale


def add_months(ts: datetime, months: int) -> datetime:
    """Calendar month arithmetic (clamps the day), keeps tzinfo."""
    month_index = ts.month - 1 + months
    year = ts.year + month_index // 12
    month = month_index % 12 + 1
    day = ts.day
    while True:
        try:
            return ts.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def floor_day(ts: datetime) -> datetime:
    return ts.replace(hour=0, minute=0, second=0, microsecond=0)


ONE_DAY = timedelta(days=1)
