"""The ``services`` check against a real supervisor, and ``traderctl check`` as a scheduled job."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import write
from tests.daemon.conftest import child, wait_until

pytestmark = pytest.mark.timeout(30)


def check(cli, config: Path, *names: str) -> tuple[int, dict[str, dict]]:
    result = cli("--config", str(config), "check", *names, "--json")
    return result.exit_code, {row["check"]: row for row in json.loads(result.stdout)}


def test_all_autostart_services_running_then_one_stopped(cli, daemon) -> None:
    d = daemon(f"""
        web:
          command: {child("sleeper")}
        worker:
          command: {child("sleeper")}
        manual:
          command: {child("sleeper")}
          autostart: false
    """)
    d.wait_state("web", "running")
    d.wait_state("worker", "running")
    code, rows = check(cli, d.config, "services")
    assert code == 0, rows
    assert rows["services"]["status"] == "ok"
    assert rows["services"]["summary"] == "2 autostart services running"
    assert set(rows["services"]["details"]) == {"web", "worker"}  # manual is not expected up

    d.client.call("stop", names=["worker"], wait=True, timeout=10)
    code, rows = check(cli, d.config, "services")
    assert code == 1
    assert rows["services"]["status"] == "fail"
    assert rows["services"]["summary"].startswith("worker is stopped")
    assert rows["services"]["details"]["worker"]["state"] == "stopped"


def test_a_service_that_keeps_crashing_fails_the_check(cli, daemon) -> None:
    d = daemon(f"""
        flaky:
          command: {child("sleeper", 0, 1)}
          backoff: {{initial: 5s, factor: 1, max: 5s, jitter: 0}}
    """)
    wait_until(lambda: d.service("flaky")["state"] == "backoff", 10, "flaky to back off")
    code, rows = check(cli, d.config, "services")
    assert code == 1
    assert rows["services"]["status"] == "fail"
    assert rows["services"]["summary"].startswith("flaky is backoff (restart in")


def test_unreachable_supervisor_is_unknown_not_ok(cli, tmp_path) -> None:
    cfg = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
          socket: {tmp_path}/run/nobody.sock
        services:
          web:
            command: [sleep, "3600"]
    """)
    code, rows = check(cli, cfg, "services")
    assert code == 3  # unknown: a check result, not an invalid config (2)
    assert rows["services"]["status"] == "unknown"
    assert rows["services"]["summary"].startswith("supervisor not reachable")


def test_no_services_configured_is_disabled(cli, tmp_path) -> None:
    cfg = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
          socket: {tmp_path}/run/nobody.sock
    """)
    code, rows = check(cli, cfg, "services")
    assert code == 0
    assert rows["services"] == {"check": "services", "status": "disabled",
                                "summary": "no services configured", "details": {}}


def test_check_runs_as_a_job_of_the_supervisor(daemon, tmp_path) -> None:
    """The documented job: ``traderctl check --json``, restart: never, started on a schedule
    (here started by hand: cron's minute resolution is too slow for a test)."""
    config = tmp_path / "trader.yaml"
    d = daemon(f"""
        web:
          command: {child("sleeper")}
        health-check:
          command: {json.dumps([sys.executable, "-m", "traderctl", "--config", str(config),
                                "--log-level", "error", "check", "services", "disk",
                                "--json"])}
          autostart: false
          restart: never
          env: {{TRADER_CHECK: "False"}}
          schedule:
            - action: start
              cron: "*/15 * * * *"
    """)
    d.wait_state("web", "running")
    d.client.call("start", names=["health-check"])
    wait_until(lambda: (d.service("health-check")["last_exit"] or {}).get("exit_code") == 0,
               15, f"the check job to exit 0 ({d.service('health-check')})")
    assert d.service("health-check")["state"] == "stopped"
    lines = d.client.call("logs", name="health-check", lines=200)["lines"]
    # each log line is "<timestamp> stdout <text>"; the job printed one JSON document
    out = "\n".join(line.split(" stdout ", 1)[1] for line in lines if " stdout " in line)
    rows = {r["check"]: r for r in json.loads(out)}
    assert rows["services"]["status"] == "ok"  # the job itself is not autostart: not counted
    assert rows["disk"]["status"] in ("ok", "warn")
