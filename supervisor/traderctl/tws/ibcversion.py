"""The installed IBC's version and the load-time checks of a ``tws`` service.

IBC's distribution carries its version in ``<ibc_path>/version`` (written by its
``build.xml``, read by ``scripts/displaybannerandlaunch.sh`` into ``IBC_VRSN``).

Checks at load (:func:`validate`, the ``tws`` type's validate hook):

* ``ColdRestartTime`` (local, on Sunday) must be after 01:00 US/Eastern, every Sunday of
  the coming year (IBC's rule, ``resources/config.ini``; the offset to US/Eastern
  moves with daylight saving time). The default 07:05 breaks east of about UTC+6.
* ``ColdRestartTime`` needs IBC 3.19 or later (older IBC ignores the key).
* ``auto_restart_time`` and ``auto_logoff_time`` exclude each other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traderctl.tws.outages import local_zone_name
from traderctl.tws.servicetype import DEFAULT_IBC_PATH

COLD_RESTART_SINCE = (3, 19)
EASTERN = "America/New_York"
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def installed_version(ibc_path: str | None) -> str | None:
    """The version in ``<ibc_path>/version``, or None if there is no readable one."""
    path = os.path.join(ibc_path or DEFAULT_IBC_PATH, "version")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(64).strip()
    except OSError:
        return None
    return text if _VERSION.match(text) else None


def version_tuple(text: str) -> tuple[int, ...]:
    match = _VERSION.match(text)
    if not match:
        return ()
    return tuple(int(p) for p in match.groups() if p is not None)


def _sundays(local: ZoneInfo, today: date | None) -> list[date]:
    day = today or datetime.now(local).date()
    sunday = day + timedelta(days=(6 - day.weekday()) % 7)
    return [sunday + timedelta(weeks=week) for week in range(53)]


def earliest_cold_restart(zone: str, today: date | None = None) -> str | None:
    """The first local Sunday HH:MM (5-minute steps) after 01:00 US/Eastern all year."""
    local, eastern = ZoneInfo(zone), ZoneInfo(EASTERN)
    latest = max(datetime.combine(day, time(1, 0), eastern).astimezone(local)
                 for day in _sundays(eastern, today))
    first = latest.replace(second=0, microsecond=0) + timedelta(minutes=5 - latest.minute % 5)
    return f"{first:%H:%M}" if first.weekday() == 6 else None


def cold_restart_problem(hhmm: str, zone: str, today: date | None = None) -> str | None:
    """Why a local Sunday ``HH:MM`` is not always after 01:00 US/Eastern that Sunday."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    local, eastern = ZoneInfo(zone), ZoneInfo(EASTERN)
    for sunday in _sundays(local, today):
        when = datetime.combine(sunday, time(hour, minute), local)
        there = when.astimezone(eastern)
        if there.weekday() == 5 or (there.weekday() == 6 and there.time() < time(1, 0)):
            hint = earliest_cold_restart(zone, today)
            return (f"Sunday {hhmm} {zone} is {there:%a %H:%M} US/Eastern on {when:%Y-%m-%d}; "
                    "IBC needs a local time after 01:00 US/Eastern on Sunday (set "
                    + (f"{hint} or later" if hint else "another time") + ", or '' for none)")
    return None


def validate(spec: dict[str, Any], report: Callable[[str, str], None]) -> None:
    """The checks of the module doc; ``report(key, message)`` for each problem."""
    if spec.get("mode") == "simulated":
        return
    if spec.get("auto_restart_time") and spec.get("auto_logoff_time"):
        report("auto_logoff_time", "set auto_restart_time or auto_logoff_time, not both "
                                   "(IBC keeps only AutoRestartTime)")
    cold = spec.get("cold_restart_time")
    if not cold:
        return
    problem = cold_restart_problem(cold, local_zone_name())
    if problem:
        report("cold_restart_time", problem)
    found = installed_version(spec.get("ibc_path"))
    if found and version_tuple(found) < COLD_RESTART_SINCE:
        report("cold_restart_time", f"needs IBC 3.19 or later; the IBC in "
                                    f"{spec.get('ibc_path') or DEFAULT_IBC_PATH} is {found}")
