"""Schedules fire by the clock of their own time zone, not the supervisor's UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.daemon.conftest import child, wait_until

# UTC+14 all year: its hour of the day is never the UTC hour (nor the one after it)
ZONE = "Pacific/Kiritimati"


def this_hour_and_next(zone: ZoneInfo | None = None) -> str:
    hour = datetime.now(zone or UTC).hour
    return f"{hour},{(hour + 1) % 24}"


def test_a_schedule_fires_by_its_own_time_zone(daemon) -> None:
    local = this_hour_and_next(ZoneInfo(ZONE))
    utc = this_hour_and_next()
    # every second during the zone's current hour / during the current UTC hour
    d = daemon(f"""
        zoned:
          command: {child("sleeper")}
          schedule:
            - {{action: restart, cron: "* * {local} * * *", timezone: {ZONE}}}
        utc_hours:
          command: {child("sleeper")}
          schedule:
            - {{action: restart, cron: "* * {utc} * * *", timezone: {ZONE}}}
    """)
    wait_until(lambda: len(d.events("schedule_fired", service="zoned")) >= 2, 10,
               "two runs of the zoned schedule")
    assert d.events("schedule_fired", service="utc_hours") == []
