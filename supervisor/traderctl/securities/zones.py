"""IB's time-zone names, the UTC rule, and TWS-local times.

Contract details carry ``timeZoneId`` as TWS's Java knows it: IANA ids
(``America/New_York``), IANA's old backward-compatible links (``US/Eastern``,
``Japan``, ``Hongkong``, ``Australia/NSW``, ``GB``) and Java's own short ids
(``EST``, ``CST``, ``MET``, ``CTT``, ``AET``). :data:`IB_ZONES` maps each to
one canonical IANA zone; anything else is tried as an IANA id.

Two deliberate choices, both because an exchange's ``tradingHours`` are in
its local wall-clock time, which follows daylight saving:

* ``EST``, ``CST``, ``MST`` and ``PST`` map to the DST-observing US zones,
  not to IANA's fixed-offset ``EST`` (IB says ``EST`` for New York venues).
* ``MET``/``CET`` map to ``Europe/Brussels`` and ``EET`` to ``Europe/Athens``,
  the zones IANA itself links them to since tzdata 2024b.

Inside traderctl every datetime is aware UTC: :func:`require_utc` turns a
naive one into a clear :class:`NaiveDatetimeError` instead of a silent guess.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

IB_ZONES: dict[str, str] = {
    # North America (IB and Java names; the simulator uses US/Eastern and America/Toronto)
    "US/Eastern": "America/New_York", "EST5EDT": "America/New_York",
    "EST": "America/New_York", "EDT": "America/New_York",
    "US/Central": "America/Chicago", "CST6CDT": "America/Chicago",
    "CST": "America/Chicago", "CDT": "America/Chicago",
    "US/Mountain": "America/Denver", "MST7MDT": "America/Denver", "MST": "America/Denver",
    "US/Pacific": "America/Los_Angeles", "PST8PDT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "Canada/Eastern": "America/Toronto", "Canada/Central": "America/Winnipeg",
    "Canada/Pacific": "America/Vancouver",
    "Mexico/General": "America/Mexico_City", "Brazil/East": "America/Sao_Paulo",
    "BET": "America/Sao_Paulo",
    # Europe (MET: IBIS, FWB, SBF, AEB, EBS in the simulator and on IB)
    "MET": "Europe/Brussels", "CET": "Europe/Brussels", "ECT": "Europe/Paris",
    "EET": "Europe/Athens", "WET": "Europe/Lisbon",
    "GB": "Europe/London", "GB-Eire": "Europe/London", "Eire": "Europe/Dublin",
    "Portugal": "Europe/Lisbon", "Poland": "Europe/Warsaw", "Turkey": "Europe/Istanbul",
    "W-SU": "Europe/Moscow",
    # Asia-Pacific (Japan and Hongkong as the simulator and TWS send them)
    "Japan": "Asia/Tokyo", "JST": "Asia/Tokyo",
    "Hongkong": "Asia/Hong_Kong", "HKT": "Asia/Hong_Kong",
    "Singapore": "Asia/Singapore", "SGT": "Asia/Singapore",
    "PRC": "Asia/Shanghai", "CTT": "Asia/Shanghai",
    "ROK": "Asia/Seoul", "ROC": "Asia/Taipei",
    "IST": "Asia/Kolkata", "Asia/Calcutta": "Asia/Kolkata",
    "Israel": "Asia/Jerusalem",
    "Australia/NSW": "Australia/Sydney", "Australia/ACT": "Australia/Sydney",
    "Australia/Canberra": "Australia/Sydney", "AET": "Australia/Sydney",
    "Australia/Victoria": "Australia/Melbourne", "Australia/Queensland": "Australia/Brisbane",
    "Australia/West": "Australia/Perth",
    "NZ": "Pacific/Auckland", "NST": "Pacific/Auckland",
    # UTC spelled every way
    "GMT": "UTC", "UTC": "UTC", "Etc/UTC": "UTC", "Etc/GMT": "UTC", "Universal": "UTC",
    "Zulu": "UTC", "Z": "UTC",
}


class UnknownZoneError(ValueError):
    """A zone name that is neither an IB name nor an IANA id."""


class NaiveDatetimeError(ValueError):
    """A datetime without a zone reached code that only works in UTC."""


def iana_name(name: str) -> str:
    """IB's zone name as a canonical IANA id; raises :class:`UnknownZoneError`."""
    text = name.strip()
    mapped = IB_ZONES.get(text)
    if mapped is None:
        mapped = next((v for k, v in IB_ZONES.items() if k.upper() == text.upper()), text)
    try:
        zone_info(mapped)
    except UnknownZoneError:
        raise UnknownZoneError(f"unknown time zone {name!r} (neither an IB zone name nor an "
                               f"IANA id)") from None
    return mapped


@lru_cache(maxsize=256)
def zone_info(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA id (cached)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZoneError(f"unknown time zone {name!r}") from None


@lru_cache(maxsize=256)
def ib_zone(name: str) -> ZoneInfo:
    """The zone behind an IB ``timeZoneId`` (``US/Eastern``, ``MET``, ``Japan`` ...)."""
    return zone_info(iana_name(name))


def require_utc(value: datetime, what: str = "datetime") -> datetime:
    """``value`` as aware UTC; a naive datetime raises :class:`NaiveDatetimeError`."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            f"{what} {value.isoformat()} is naive: pass an aware datetime "
            f"(e.g. datetime.now(UTC)); traderctl never guesses a zone")
    return value.astimezone(UTC)


TwsZone = str | tzinfo | Any  # Any: an object with ``.tzinfo`` (traderctl.tws.tz.TwsTimeZone)


def as_tzinfo(zone: TwsZone) -> tzinfo:
    """A tzinfo from an IB/IANA name, a tzinfo, or the ``tws`` service's detected
    :class:`traderctl.tws.tz.TwsTimeZone` (anything with a ``tzinfo`` attribute)."""
    if isinstance(zone, str):
        return ib_zone(zone)
    if isinstance(zone, tzinfo):
        return zone
    found = getattr(zone, "tzinfo", None)
    if not isinstance(found, tzinfo):
        raise TypeError(f"not a time zone: {zone!r}")
    return found


def tws_local(instant: datetime, tws_zone: TwsZone) -> datetime:
    """``instant`` on the TWS session's wall clock (aware, in that zone)."""
    return require_utc(instant, "instant").astimezone(as_tzinfo(tws_zone))


def format_tws_time(instant: datetime, tws_zone: TwsZone | None = None) -> str:
    """A time for IB fields that take ``YYYYMMDD HH:MM:SS [zone]`` (endDateTime, conditions).

    With the TWS session's zone (``tws`` service's detected zone, ``IB.TWSTimeZone``) the
    wall-clock time in that zone with its IANA id appended; without it the UTC form
    ``YYYYMMDD-HH:MM:SS`` that IB reads as UTC whatever the login zone.
    """
    utc = require_utc(instant, "instant")
    if tws_zone is None:
        return f"{utc:%Y%m%d-%H:%M:%S}"
    tz = as_tzinfo(tws_zone)
    name = iana_name(tws_zone) if isinstance(tws_zone, str) else getattr(tz, "key", None)
    if name is None:  # a fixed offset (TwsTimeZone source "offset"): IB reads the UTC form
        return f"{utc:%Y%m%d-%H:%M:%S}"
    return f"{utc.astimezone(tz):%Y%m%d %H:%M:%S} {name}"
