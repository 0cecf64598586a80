"""The ``tws`` and ``clock`` checks: the real ib_async client against the TWS simulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import write
from traderctl.checks.stack import measure_offset
from traderctl.config import Field, Port
from traderctl.plugin.manager import module_plugin

pytestmark = pytest.mark.timeout(20)


def config(tmp_path: Path, port: int, tws: str = "enabled: true, ") -> str:
    return str(write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
          socket: {tmp_path}/run/traderctl.sock
        ib:
          host: 127.0.0.1
          port: {port}
        checks:
          tws: {{{tws}timeout: 1s, client_id: 977}}
          clock: {{max_offset: 2s}}
    """))


def run(cli, cfg: str, *names: str, plugins: tuple = ()) -> tuple[int, dict[str, dict]]:
    result = cli("--config", cfg, "check", *names, "--json", plugins=plugins)
    return result.exit_code, {row["check"]: row for row in json.loads(result.stdout)}


def wait_disconnected(sim, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while sim.status()["connections"]:
        assert time.monotonic() < deadline, f"check left a connection open: {sim.status()}"
        time.sleep(0.02)


def test_tws_answers_and_clock_agrees(cli, sim_tws, tmp_path) -> None:
    code, rows = run(cli, config(tmp_path, sim_tws.port), "tws", "clock")
    assert code == 0, rows
    assert rows["tws"]["status"] == "ok"
    assert f"127.0.0.1:{sim_tws.port} answered" in rows["tws"]["summary"]
    assert rows["tws"]["details"]["server_version"] > 100
    assert rows["clock"]["status"] == "ok", rows["clock"]
    clock = rows["clock"]["details"]
    assert clock["offset_low"] <= 0 <= clock["offset_high"] and clock["max_offset"] == 2.0
    # one shared read-only connection with the reserved client id, one currentTime
    asked = sim_tws.requests_named("reqCurrentTime")
    assert [r.client_id for r in asked] == [977]
    assert not sim_tws.requests_named("placeOrder")
    wait_disconnected(sim_tws)


def test_frozen_tws_fails_within_the_timeout(cli, sim_tws, tmp_path) -> None:
    sim_tws.freeze()
    started = time.monotonic()
    code, rows = run(cli, config(tmp_path, sim_tws.port), "tws", "clock")
    assert time.monotonic() - started < 3.0
    assert code == 1
    assert rows["tws"]["status"] == "fail"
    assert "no answer" in rows["tws"]["summary"] and "within 1s" in rows["tws"]["summary"]
    assert rows["clock"]["status"] == "unknown"
    assert "cannot read TWS's clock" in rows["clock"]["summary"]
    sim_tws.unfreeze()
    wait_disconnected(sim_tws)


def test_refused_connection_fails(cli, sim_tws, tmp_path) -> None:
    sim_tws.refuse_connections()
    code, rows = run(cli, config(tmp_path, sim_tws.port), "tws")
    assert code == 1
    assert rows["tws"]["status"] == "fail"
    assert "does not answer" in rows["tws"]["summary"]


def test_no_tws_service_means_disabled_and_no_connection(cli, sim_tws, tmp_path) -> None:
    cfg = config(tmp_path, sim_tws.port, tws="")
    code, rows = run(cli, cfg, "tws", "clock")
    assert code == 0
    assert rows["tws"]["status"] == rows["clock"]["status"] == "disabled"
    assert "no tws service configured" in rows["tws"]["summary"]
    assert sim_tws.requests == []
    cfg = config(tmp_path, sim_tws.port, tws="enabled: false, ")
    assert run(cli, cfg, "tws")[1]["tws"]["summary"] == "checks.tws.enabled is false"


def _register_tws_type(register) -> None:
    # Stands in for the tws service type until it is built in (a built-in one wins: first
    # registration of a name is kept).
    from traderctl.services.types import ServiceType

    register(ServiceType("tws", fields={"api_port": Field(Port(), 7497)}, needs_command=False))


TWS_TYPE = module_plugin("tws_type_fixture", register_service_types=_register_tws_type)


def test_a_configured_tws_service_turns_the_checks_on(cli, sim_tws, tmp_path) -> None:
    services = f"{{tws: {{type: tws, api_port: {sim_tws.port}, autostart: false}}}}"
    cfg = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
          socket: {tmp_path}/run/traderctl.sock
        checks:
          tws: {{timeout: 1s, client_id: 977}}
        services: {services}
    """)
    code, rows = run(cli, str(cfg), "tws", "clock", plugins=(TWS_TYPE,))
    assert code == 0, rows
    assert rows["tws"]["status"] == "ok"  # ib.port followed the service's api_port
    assert rows["tws"]["details"]["port"] == sim_tws.port


def test_offset_bounds_from_one_sample() -> None:
    t0 = datetime(2026, 3, 2, 14, 0, 0, 250000, tzinfo=UTC)
    # in sync: TWS says 14:00:00 (truncated), asked at .25, answered at .30
    ok = measure_offset(t0.replace(microsecond=0), t0, t0 + timedelta(milliseconds=50))
    assert ok.low <= 0 <= ok.high and ok.least == 0.0
    # TWS 5 s ahead
    ahead = measure_offset(t0.replace(microsecond=0) + timedelta(seconds=5), t0,
                           t0 + timedelta(milliseconds=50))
    assert 4.6 < ahead.least < 4.8 and 4.9 < ahead.estimate < 5.3
    # our clock 3 s ahead of TWS (TWS behind): negative offset
    behind = measure_offset(t0.replace(microsecond=0) - timedelta(seconds=3), t0,
                            t0 + timedelta(milliseconds=50))
    assert behind.high < 0 and 2.2 < behind.least < 2.3 and behind.estimate < -2.5
    # a slow answer widens the interval: latency is not mistaken for skew
    slow = measure_offset(t0.replace(microsecond=0) + timedelta(seconds=4), t0,
                          t0 + timedelta(seconds=4.5))
    assert slow.least == 0.0
