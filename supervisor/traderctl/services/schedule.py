"""Cron schedules for service actions, on APScheduler 3.x.

APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0; we
accept crontab's meaning (0 and 7 are Sunday) and translate numbers to day
names before APScheduler sees them, so ``0 9 * * 1-5`` means Monday to Friday.
"""

from __future__ import annotations

import re
from typing import Any

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# (name, low, high, names) per field, seconds first
_FIELDS = (("second", 0, 59, ()), ("minute", 0, 59, ()), ("hour", 0, 23, ()),
           ("day", 1, 31, ()), ("month", 1, 12, _MONTHS), ("weekday", 0, 7, _DAYS[:7]))
_TOKEN = re.compile(r"(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?")


def validate_crontab(expression: str) -> None:
    """Raise ValueError unless ``expression`` is plain crontab syntax (5 or 6 fields).

    A strict subset of what APScheduler accepts, checked without importing it
    (its import costs ~100 ms, too much for ``config show``); the daemon builds
    the real trigger with :func:`cron_trigger`.
    """
    fields = expression.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in text.lower().split(","):
            match = _TOKEN.fullmatch(part)
            if not match or match.group(2) == "0":
                raise ValueError(f"bad {name} field {text!r}")
            if match.group(1) != "*":
                for value in match.group(1).split("-"):
                    number = names.index(value) + low if value in names else (
                        int(value) if value.isdigit() else -1)
                    if not low <= number <= high:
                        raise ValueError(f"{name} {value!r} is out of range {low}-{high}")


def crontab_dow(field: str) -> str:
    """``1-5`` -> ``mon-fri``, ``0,6`` -> ``sun,sat``; names and ``*`` pass through."""
    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"day of week {number} is out of range 0-7")
        return _DAYS[number]

    parts = []
    for part in field.split(","):
        base, sep, step = part.partition("/")
        parts.append(re.sub(r"\d+", name, base) + (sep + step))
    return ",".join(parts)


def cron_trigger(expression: str, timezone: str) -> Any:
    """An APScheduler CronTrigger for a crontab line in ``timezone``.

    Five fields as in crontab; six fields put seconds first (``*/10 * * * * *``).
    """
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    second, minute, hour, day, month, dow = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_dow(dow), timezone=ZoneInfo(timezone))
