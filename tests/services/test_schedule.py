from __future__ import annotations

from datetime import UTC, datetime

import pytest

from traderctl.daemon.scheduler import missed_runs
from traderctl.services.schedule import cron_trigger, crontab_dow


@pytest.mark.parametrize(("field", "expected"), [
    ("1-5", "mon-fri"), ("0", "sun"), ("7", "sun"), ("0,6", "sun,sat"), ("*", "*"),
    ("mon-fri", "mon-fri"), ("*/2", "*/2"), ("1-5/2", "mon-fri/2"),
])
def test_crontab_weekdays(field, expected) -> None:
    assert crontab_dow(field) == expected


def test_weekday_numbers_mean_what_crontab_means() -> None:
    trigger = cron_trigger("30 9 * * 1", "America/New_York")  # Mondays 09:30 New York
    start = datetime(2026, 11, 21, tzinfo=UTC)  # a Saturday
    fire = trigger.get_next_fire_time(None, start)
    assert fire.isoformat() == "2026-11-23T09:30:00-05:00"
    assert fire.astimezone(UTC).hour == 14


def test_missed_runs_between_two_instants() -> None:
    since = datetime(2026, 11, 20, 21, 59, tzinfo=UTC)
    until = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    runs = missed_runs("0 * * * *", "UTC", since, until)
    assert [r.hour for r in runs] == [22, 23, 0, 1]
    assert all(r.tzinfo is not None for r in runs)


def test_bad_expressions() -> None:
    for bad in ("* * *", "61 * * * *", "* * * * 9"):
        with pytest.raises(ValueError):
            cron_trigger(bad, "UTC")


GOOD = ["* * * * *", "0 9 * * 1-5", "*/15 * * * *", "0 0 1 jan,jul *", "30 16 * * mon-fri",
        "0 9-17/2 * * *", "*/10 * * * * *", "0 0 * * 0", "0 0 * * 7", "5,10,15 * * * *"]
BAD = ["* * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
       "*/0 * * * *", "* * * foo *", "L * * * *", "1--2 * * * *", "* * * * * * *"]


@pytest.mark.parametrize("expression", GOOD)
def test_accepted_expressions_build_real_triggers(expression) -> None:
    from traderctl.services.schedule import validate_crontab

    validate_crontab(expression)
    assert cron_trigger(expression, "UTC") is not None


@pytest.mark.parametrize("expression", BAD)
def test_rejected_expressions(expression) -> None:
    from traderctl.services.schedule import validate_crontab

    with pytest.raises(ValueError):
        validate_crontab(expression)
