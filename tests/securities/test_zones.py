"""IB zone names to IANA, the aware-UTC rule, TWS-local times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from traderctl.securities.zones import (
    IB_ZONES,
    NaiveDatetimeError,
    UnknownZoneError,
    format_tws_time,
    iana_name,
    ib_zone,
    require_utc,
    tws_local,
)
from traderctl.simulator.universe import DEFAULT_UNIVERSE

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("ib", "iana"), [
    ("US/Eastern", "America/New_York"), ("EST5EDT", "America/New_York"),
    ("EST", "America/New_York"), ("US/Central", "America/Chicago"), ("CST", "America/Chicago"),
    ("MET", "Europe/Brussels"), ("GB", "Europe/London"), ("Japan", "Asia/Tokyo"),
    ("Hongkong", "Asia/Hong_Kong"), ("Australia/NSW", "Australia/Sydney"),
    ("Singapore", "Asia/Singapore"), ("Europe/London", "Europe/London"),
    ("America/Toronto", "America/Toronto"), ("japan", "Asia/Tokyo"), (" MET ", "Europe/Brussels"),
])
def test_ib_names_map_to_iana(ib: str, iana: str) -> None:
    assert iana_name(ib) == iana
    assert ib_zone(ib) == ZoneInfo(iana)


def test_every_mapped_zone_exists() -> None:
    for ib, iana in IB_ZONES.items():
        assert ib_zone(ib) == ZoneInfo(iana), ib


def test_every_simulator_zone_resolves() -> None:
    raw = json.loads(DEFAULT_UNIVERSE.read_text())
    zones = {c["timeZoneId"] for c in raw["calendars"].values()}
    zones |= {c["timeZoneId"] for c in raw["contracts"] if "timeZoneId" in c}
    assert {"US/Eastern", "MET", "Japan"} <= zones
    for name in zones:
        assert ib_zone(name).key, name


def test_est_follows_new_york_daylight_saving() -> None:
    july = datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert july.astimezone(ib_zone("EST")).hour == 9  # EDT, not a fixed -05:00


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(UnknownZoneError, match="'Mars/Olympus'"):
        ib_zone("Mars/Olympus")


def test_naive_datetime_raises() -> None:
    with pytest.raises(NaiveDatetimeError, match="naive"):
        require_utc(datetime(2026, 12, 1, 9, 30))  # noqa: DTZ001 - the point of the test
    with pytest.raises(TypeError):
        require_utc("2026-12-01")  # type: ignore[arg-type]


def test_aware_datetimes_become_utc() -> None:
    local = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    assert require_utc(local) == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert require_utc(local).tzinfo is UTC


def test_tws_local_times() -> None:
    at = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert tws_local(at, "US/Eastern").hour == 9
    assert tws_local(at, timezone(timedelta(hours=1))).hour == 15
    assert format_tws_time(at, "US/Eastern") == "20261201 09:30:00 America/New_York"
    assert format_tws_time(at, "MET") == "20261201 15:30:00 Europe/Brussels"
    assert format_tws_time(at) == "20261201-14:30:00"
    with pytest.raises(NaiveDatetimeError):
        format_tws_time(datetime(2026, 12, 1, 14, 30), "US/Eastern")  # noqa: DTZ001


def test_the_tws_services_detected_zone() -> None:
    from traderctl.tws.tz import resolve

    at = datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    detected = resolve("20260701 10:30:00 EDT", at)  # what the handshake says in summer
    assert tws_local(at, detected).hour == 10
    assert format_tws_time(at, detected) == "20260701 10:30:00 America/New_York"
    offset_only = resolve("20260701 16:30:00 XYZ", at)  # unknown name: a fixed offset
    assert format_tws_time(at, offset_only) == "20260701-14:30:00"
    with pytest.raises(TypeError):
        tws_local(at, 5)
