"""The TWS session's time zone, discovered from the API.

TWS works in the time zone chosen at login, and says which only in passing:
the handshake reply carries a connection time ``YYYYMMDD HH:MM:SS <zone>``
where ``<zone>`` is what Java prints for it: an abbreviation (``EST``,
``CET``, ``HKT``), a long name (``Central European Time``) or, on some
builds, an IANA id (``US/Eastern``). ib_async drops that string, so the
observer connection snoops it from the socket (see
:class:`traderctl.tws.session.HandshakeSnoop`).

How the zone is decided:

1. The UTC offset is measured, not guessed: the handshake's local wall-clock
   time minus TWS's own ``reqCurrentTime`` (UTC epoch seconds) asked right
   after connecting, rounded to 15 minutes. Both come from TWS, so the local
   machine's clock does not matter.
2. If ``<zone>`` is an IANA id whose offset now matches, that is the zone.
3. Otherwise the name is looked up in :data:`NAMES` (abbreviations and Java's
   long names, each with candidate IANA zones, most likely first) and the
   first candidate whose current offset matches the measured one wins (this is
   how ``CST`` tells Chicago from Shanghai).
4. If nothing matches, the zone is reported as the fixed offset
   (``UTC-05:00``) with ``source: offset``: right for now, blind to DST.

Abbreviations are ambiguous by nature; :data:`NAMES` picks the exchange city
IB users most likely mean (``CET`` -> Europe/Zurich, where IB's European
servers are). Internal times in traderctl stay UTC; the zone is for display
and for schedules that must follow the TWS day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_CONN_TIME = re.compile(r"^\s*(\d{8})\s+(\d{1,2}):(\d{2}):(\d{2})\s*(.*?)\s*$")
QUARTER = 15 * 60

NAMES: dict[str, tuple[str, ...]] = {
    # North America
    "est": ("America/New_York",), "edt": ("America/New_York",),
    "eastern standard time": ("America/New_York",), "eastern daylight time": ("America/New_York",),
    "eastern time": ("America/New_York",),
    "cst": ("America/Chicago", "Asia/Shanghai", "Asia/Taipei"), "cdt": ("America/Chicago",),
    "central standard time": ("America/Chicago",), "central daylight time": ("America/Chicago",),
    "central time": ("America/Chicago",),
    "mst": ("America/Denver", "America/Phoenix"), "mdt": ("America/Denver",),
    "mountain standard time": ("America/Denver", "America/Phoenix"),
    "mountain daylight time": ("America/Denver",),
    "pst": ("America/Los_Angeles",), "pdt": ("America/Los_Angeles",),
    "pacific standard time": ("America/Los_Angeles",),
    "pacific daylight time": ("America/Los_Angeles",),
    "ast": ("America/Halifax",), "adt": ("America/Halifax",),
    # Europe
    "gmt": ("Europe/London", "UTC"), "bst": ("Europe/London",), "utc": ("UTC",),
    "greenwich mean time": ("Europe/London", "UTC"), "british summer time": ("Europe/London",),
    "coordinated universal time": ("UTC",),
    "cet": ("Europe/Zurich",), "cest": ("Europe/Zurich",), "met": ("Europe/Zurich",),
    "mest": ("Europe/Zurich",),
    "central european time": ("Europe/Zurich",),
    "central european standard time": ("Europe/Zurich",),
    "central european summer time": ("Europe/Zurich",),
    "eet": ("Europe/Helsinki",), "eest": ("Europe/Helsinki",),
    "eastern european time": ("Europe/Helsinki",),
    "eastern european summer time": ("Europe/Helsinki",),
    "wet": ("Europe/Lisbon",), "west": ("Europe/Lisbon",),
    "western european time": ("Europe/Lisbon",), "msk": ("Europe/Moscow",),
    "moscow standard time": ("Europe/Moscow",),
    "ist": ("Asia/Kolkata", "Europe/Dublin"), "india standard time": ("Asia/Kolkata",),
    "irish standard time": ("Europe/Dublin",),
    # Asia-Pacific
    "hkt": ("Asia/Hong_Kong",), "hong kong time": ("Asia/Hong_Kong",),
    "hong kong standard time": ("Asia/Hong_Kong",),
    "china standard time": ("Asia/Shanghai",),
    "jst": ("Asia/Tokyo",), "japan standard time": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",), "korea standard time": ("Asia/Seoul",),
    "sgt": ("Asia/Singapore",), "singapore time": ("Asia/Singapore",),
    "singapore standard time": ("Asia/Singapore",),
    "aest": ("Australia/Sydney", "Australia/Brisbane"), "aedt": ("Australia/Sydney",),
    "australian eastern standard time": ("Australia/Sydney", "Australia/Brisbane"),
    "australian eastern daylight time": ("Australia/Sydney",),
    "nzst": ("Pacific/Auckland",), "nzdt": ("Pacific/Auckland",),
    "new zealand standard time": ("Pacific/Auckland",),
    "new zealand daylight time": ("Pacific/Auckland",),
}


@dataclass(frozen=True)
class TwsTimeZone:
    """What was found: ``name`` is an IANA id, or ``UTC+hh:mm`` when only the offset is known."""

    name: str
    utc_offset: timedelta
    reported: str  # the zone text TWS sent
    source: str  # "zone id" | "name" | "offset"

    @property
    def tzinfo(self) -> Any:
        if self.source == "offset":
            from datetime import timezone

            return timezone(self.utc_offset)
        return ZoneInfo(self.name)

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.name, "utc_offset": format_offset(self.utc_offset),
                "reported": self.reported, "source": self.source}


def format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_connection_time(text: str) -> tuple[datetime, str]:
    """``20240102 12:00:00 EST`` -> (naive local datetime, ``EST``); ValueError if malformed."""
    match = _CONN_TIME.match(text or "")
    if not match:
        raise ValueError(f"not a TWS connection time: {text!r}")
    day, hour, minute, second, zone = match.groups()
    local = datetime.strptime(  # noqa: DTZ007 - a wall-clock time in the TWS zone
        f"{day} {int(hour):02d}:{minute}:{second}", "%Y%m%d %H:%M:%S")
    return local, zone


def measured_offset(local: datetime, server_utc: datetime) -> timedelta:
    """Local wall clock minus UTC, rounded to the nearest quarter hour."""
    raw = (local - server_utc.astimezone(UTC).replace(tzinfo=None)).total_seconds()
    return timedelta(seconds=round(raw / QUARTER) * QUARTER)


def _offset_now(zone: str, at: datetime) -> timedelta | None:
    try:
        return at.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve(connection_time: str, server_utc: datetime) -> TwsTimeZone:
    """Decide the TWS zone from the handshake text and TWS's UTC time (see module doc)."""
    local, reported = parse_connection_time(connection_time)
    offset = measured_offset(local, server_utc)
    if "/" in reported or reported.upper() == "UTC":
        if _offset_now(reported, server_utc) == offset:
            return TwsTimeZone(reported, offset, reported, "zone id")
    for candidate in NAMES.get(reported.lower(), ()):
        if _offset_now(candidate, server_utc) == offset:
            return TwsTimeZone(candidate, offset, reported, "name")
    return TwsTimeZone("UTC" + format_offset(offset), offset, reported, "offset")
