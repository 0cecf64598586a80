"""The pure parts of the tws type: reset windows, the TWS time zone, IBC's ini, the
service keys in the config (IBC's output lines: test_ibclines.py)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from traderctl.tws import windows
from traderctl.tws.ini import IniError, escape_value, render, write_private
from traderctl.tws.servicetype import api_port, ibc_ampm
from traderctl.tws.session import HandshakeSnoop, farm_name
from traderctl.tws.tz import resolve

REPO = Path(__file__).resolve().parents[2]
NY = "America/New_York"


def at(text: str, zone: str = NY) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture(scope="module")
def ib_windows() -> list[windows.ResetWindow]:
    return windows.load_windows_file(REPO / "supervisor/traderctl/tws/reset-windows.yaml")


@pytest.mark.parametrize(("moment", "expected"), [
    ("2026-01-14T00:30", "north-america-daily"),   # Wednesday, winter (EST)
    ("2026-07-15T00:30", "north-america-daily"),   # Wednesday, summer (EDT): follows DST
    ("2026-01-14T01:50", None),
    ("2026-01-16T23:30", "weekend"),               # Friday night
    ("2026-01-17T02:59", "weekend"),               # Saturday early morning
    ("2026-01-17T04:00", None),
    ("2026-01-18T00:20", "north-america-daily"),   # Sunday
    ("2026-01-14T20:30", None),
])
def test_ib_reset_windows_follow_the_local_clocks(ib_windows, moment: str,
                                                  expected: str | None) -> None:
    found = windows.active_window(ib_windows, at(moment))
    assert (found.window.name if found else None) == expected


def test_europe_and_asia_windows_in_their_own_zones(ib_windows) -> None:
    by_name = {w.name: w for w in ib_windows}
    # 06:30 in Zurich is 00:30 in New York: IB's European and North American windows overlap
    assert by_name["europe-daily"].active_until(at("2026-03-04T06:30", "Europe/Zurich"))
    assert by_name["europe-daily"].active_until(at("2026-03-04T07:50", "Europe/Zurich")) is None
    assert by_name["asia-daily-second"].active_until(at("2026-03-04T20:20", "Asia/Hong_Kong"))
    found = windows.active_window(ib_windows, at("2026-03-04T05:00", "Asia/Hong_Kong"))
    assert found.window.name == "asia-daily-first"
    assert found.until == at("2026-03-04T06:05", "Asia/Hong_Kong")
    assert found.describe() == "IB reset window asia-daily-first until 06:05 Asia/Hong_Kong"


def test_window_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        windows.parse_window({"name": "x", "timezone": "Mars/Base", "start": "1:00",
                              "end": "2:00"})
    with pytest.raises(ValueError, match="expected HH:MM"):
        windows.parse_window({"name": "x", "timezone": NY, "start": "25:00", "end": "2:00"})
    with pytest.raises(ValueError, match="days must be"):
        windows.parse_window({"name": "x", "timezone": NY, "start": "1:00", "end": "2:00",
                              "days": ["someday"]})


def test_daily_window_for_the_auto_restart() -> None:
    w = windows.daily_window("auto", time(23, 58), timedelta(minutes=5), NY)
    assert w.active_until(at("2026-01-15T00:01")) == at("2026-01-15T00:03")
    assert w.active_until(at("2026-01-15T00:04")) is None


@pytest.mark.parametrize(("conn_time", "utc", "zone", "source"), [
    ("20260114 12:00:00 EST", "2026-01-14T17:00:00", NY, "name"),
    ("20260714 12:00:00 EDT", "2026-07-14T16:00:00", NY, "name"),
    ("20260114 11:00:00 CST", "2026-01-14T17:00:00", "America/Chicago", "name"),
    ("20260115 01:00:00 CST", "2026-01-14T17:00:00", "Asia/Shanghai", "name"),
    ("20260114 18:00:00 Central European Time", "2026-01-14T17:00:00", "Europe/Zurich", "name"),
    ("20260114 12:00:00 US/Eastern", "2026-01-14T17:00:00", "US/Eastern", "zone id"),
    ("20260114 22:30:00 Somewhere", "2026-01-14T17:00:00", "UTC+05:30", "offset"),
    ("20260114 12:00:01 EST", "2026-01-14T16:59:58", NY, "name"),  # seconds apart: rounded
])
def test_tws_time_zone_from_the_handshake_and_current_time(conn_time: str, utc: str, zone: str,
                                                           source: str) -> None:
    found = resolve(conn_time, datetime.fromisoformat(utc).replace(tzinfo=UTC))
    assert (found.name, found.source) == (zone, source)
    assert found.to_json()["timezone"] == zone


def test_handshake_snoop_reads_the_connection_time_from_split_packets() -> None:
    payload = b"178\x0020260114 12:00:00 EST\x00"
    frame = len(payload).to_bytes(4, "big") + payload + b"\x00\x00\x00\x05next!"
    snoop = HandshakeSnoop()
    for i in range(0, len(frame), 3):
        snoop.feed(frame[i:i + 3])
    assert snoop.connection_time == "20260114 12:00:00 EST" and snoop.done


def test_properties_escaping_and_refusals() -> None:
    assert escape_value("a\\b") == "a\\\\b"
    assert escape_value(" lead") == "\\ lead" and escape_value("in side") == "in side"
    assert escape_value("tab\there") == "tab\\there"
    assert escape_value("€") == "\\u20ac" and escape_value("é") == "é"
    for bad in ("two\nlines", "cr\rhere"):
        with pytest.raises(IniError) as info:
            render("IbPassword=${IbPassword}\n", {"IbPassword": bad})
        assert bad not in str(info.value) and "IbPassword" in str(info.value)
    with pytest.raises(IniError, match="has no value"):
        render("X=${Missing}\n", {})


def test_private_write_is_atomic_and_0600(tmp_path: Path) -> None:
    target = tmp_path / "svc" / "config.ini"
    write_private(str(target), "A=1\n")
    os.chmod(target, 0o644)  # a stale looser file is replaced, not rewritten in place
    write_private(str(target), "A=2\n")
    assert target.read_text() == "A=2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in target.parent.iterdir()) == ["config.ini"]


def test_farm_names() -> None:
    assert farm_name("Market data farm connection is OK:usfarm") == "usfarm"
    assert farm_name("HMDS data farm connection is inactive but should be available upon "
                     "demand.ushmds") == "ushmds"


def test_ports_and_clock_times() -> None:
    assert api_port({"mode": "live", "gateway": False}) == 7496
    assert api_port({"mode": "paper", "gateway": False}) == 7497
    assert api_port({"mode": "live", "gateway": True}) == 4001
    assert api_port({"mode": "simulated", "gateway": True}) == 4002
    assert api_port({"mode": "live", "api_port": 4100}) == 4100
    assert [ibc_ampm(t) for t in ("23:45", "00:05", "12:00", "07:30")] == [
        "11:45 PM", "12:05 AM", "12:00 PM", "07:30 AM"]


def test_config_keys_ib_port_and_masking(cli, tmp_path: Path) -> None:
    import json

    (tmp_path / "trader.yaml").write_text(
        "services:\n"
        "  gw:\n"
        "    type: tws\n    mode: live\n    gateway: true\n    tws_version: '1030'\n"
        "    username: someone\n    password: hunter2-secret\n"
        "    auto_restart_time: '11:15 pm'\n")
    shown = cli("--config", "trader.yaml", "config", "show", "--json", "--origin")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["ib.port"] == {"value": 4001, "origin": "derived:services.gw.api_port"}
    assert data["services.gw.password"]["value"] == "***"
    assert data["services.gw.username"]["value"] == "***"
    assert data["services.gw.auto_restart_time"]["value"] == "23:15"
    assert "hunter2-secret" not in shown.output
    (tmp_path / "trader.yaml").write_text(
        "services:\n  gw:\n    type: tws\n    reset_windows: [{name: x, start: '01:00'}]\n"
        "    auto_restart_time: '25:00'\n")
    bad = cli("--config", "trader.yaml", "config", "show")
    assert bad.exit_code != 0
    assert "services.gw.reset_windows[0].end: required value is missing" in bad.output
    assert "services.gw.auto_restart_time: expected a time like 23:45" in bad.output


def test_reset_regions_keep_only_their_windows_and_the_global_ones() -> None:
    from traderctl.tws.windows import default_windows_file, for_regions, load_windows_file

    windows = load_windows_file(default_windows_file(None))
    europe = {w.name for w in for_regions(windows, ["europe"])}
    assert europe == {"europe-daily", "weekend"}
    assert len(for_regions(windows, [])) == len(windows) == 5


def test_cold_restart_rules_are_checked_at_load(cli, tmp_path: Path) -> None:
    old_ibc = tmp_path / "ibc-3.18"
    old_ibc.mkdir()
    (old_ibc / "version").write_text("3.18.0")
    (tmp_path / "trader.yaml").write_text(
        "services:\n"
        "  hk:\n"
        "    type: tws\n    mode: live\n    tws_version: '1030'\n"
        "    cold_restart_time: '07:05'\n"
        "  old:\n"
        "    type: tws\n    mode: live\n    tws_version: '1030'\n"
        f"    ibc_path: {old_ibc}\n    cold_restart_time: '14:05'\n"
        "    auto_restart_time: '23:45'\n    auto_logoff_time: '23:50'\n")
    bad = cli("--config", "trader.yaml", "config", "show", env={"TZ": "Asia/Hong_Kong"})
    assert bad.exit_code == 2, bad.output
    lines = [line for line in bad.output.splitlines() if "trader.yaml:" in line]
    assert any("services.hk.cold_restart_time: Sunday 07:05 Asia/Hong_Kong is Sat 18:05 "
               "US/Eastern" in line and "set 14:05 or later" in line for line in lines), lines
    assert any("services.old.cold_restart_time: needs IBC 3.19 or later" in line
               and "is 3.18.0" in line for line in lines), lines
    assert any("services.old.auto_logoff_time: set auto_restart_time or auto_logoff_time, "
               "not both" in line for line in lines), lines
    assert not any("services.old.cold_restart_time: Sunday" in line for line in lines)
    # the same file in London: 07:05 is always after 01:00 US/Eastern there
    london = cli("--config", "trader.yaml", "config", "show", env={"TZ": "Europe/London"})
    assert "services.hk.cold_restart_time" not in london.output
    assert "services.old.cold_restart_time: needs IBC 3.19" in london.output
