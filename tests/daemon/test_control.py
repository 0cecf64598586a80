"""Operator commands against a real supervisor: status codes, reload, schedules, systemd."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.daemon.conftest import child, wait_until


def traderctl(d, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    return subprocess.run([sys.executable, "-m", "traderctl", "--config", str(d.config), *args],
                          capture_output=True, text=True, timeout=30, env=env, check=False)


def test_status_exit_codes(daemon) -> None:
    d = daemon(f"""
        up:
          command: {child("sleeper")}
        manual:
          command: {child("sleeper")}
          autostart: false
    """)
    d.wait_state("up", "running")
    result = traderctl(d, "status")
    assert result.returncode == 0, result.stderr
    assert "up" in result.stdout and "manual" in result.stdout
    traderctl(d, "stop", "up", "--wait")
    result = traderctl(d, "status", "--json")
    assert result.returncode == 3
    states = {s["name"]: s["state"] for s in json.loads(result.stdout)["services"]}
    assert states == {"up": "stopped", "manual": "stopped"}
    assert traderctl(d, "start", "up", "--wait").stdout == "up: running\n"
    assert traderctl(d, "status", "up").returncode == 0
    d.stop()
    result = traderctl(d, "status")
    assert result.returncode == 4 and "no supervisor" in result.stderr


def test_unknown_service_is_an_error(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    result = traderctl(d, "restart", "nosuch")
    assert result.returncode == 1 and "no such service: nosuch" in result.stderr


def test_reload_applies_only_what_changed_and_refuses_a_broken_file(daemon) -> None:
    d = daemon(f"""
        keep:
          command: {child("sleeper")}
        change:
          command: {child("sleeper")}
        drop:
          command: {child("sleeper")}
    """)
    for name in ("keep", "change", "drop"):
        d.wait_state(name, "running")
    before = {n: d.service(n)["pid"] for n in ("keep", "change")}
    good = d.config.read_text()
    d.config.write_text(good.replace("  drop:\n", "  added:\n").replace(
        f"  change:\n    command: {child('sleeper')}",
        f"  change:\n    command: {child('sleeper', 3000)}"))
    result = traderctl(d, "reload")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["added: added", "removed: drop", "restarted: change"]
    d.wait_state("change", "running")
    d.wait_state("added", "running")
    assert d.service("keep")["pid"] == before["keep"]
    assert d.service("change")["pid"] != before["change"]
    d.config.write_text(d.config.read_text() + "  broken:\n    restart: sometimes\n")
    result = traderctl(d, "reload")
    assert result.returncode == 1 and "keeping the running one" in result.stderr
    assert "services.broken.restart" in result.stderr
    d.proc.send_signal(1)  # SIGHUP goes straight to the daemon, which must refuse too
    wait_until(lambda: d.events("reload_refused"), 5, "reload_refused")
    assert any("broken.restart" in p for p in d.events("reload_refused")[0]["problems"])
    assert {s["name"] for s in d.client.call("status")["services"]} == {"keep", "change", "added"}
    assert d.service("keep")["pid"] == before["keep"]


def test_sighup_reloads(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.config.write_text(d.config.read_text() + f"  b:\n    command: {child('sleeper')}\n")
    d.proc.send_signal(1)
    wait_until(lambda: d.events("config_reloaded"), 10, "the reload")  # parsed off the loop
    d.wait_state("b", "running")
    assert d.events("config_reloaded")[0]["source"] == "SIGHUP"


def test_schedule_fires(daemon) -> None:
    d = daemon(f"""
        nightly:
          command: {child("sleeper")}
          schedule:
            - {{action: restart, cron: "* * * * * *", timezone: Europe/Zurich}}
    """)
    wait_until(lambda: d.service("nightly")["restarts"] >= 2, 10, "two scheduled restarts")
    fired = d.events("schedule_fired", service="nightly")
    assert fired and fired[0]["action"] == "restart"


def test_missed_schedule_runs_are_reported(daemon, tmp_path: Path) -> None:
    services = f"""
        job:
          command: {child("sleeper")}
          schedule:
            - {{action: restart, cron: "0 * * * *"}}
    """
    d = daemon(services)
    d.stop()
    state = tmp_path / "data" / "state.json"
    data = json.loads(state.read_text())
    data["last_seen"] = "2026-01-05T09:30:00+00:00"
    state.write_text(json.dumps(data))
    again = daemon(services)
    missed = again.events("schedule_missed", service="job")
    assert missed[0]["scheduled_at"] == "2026-01-05T10:00:00+00:00"
    assert missed[0]["reason"] == "supervisor was not running"


def test_invalid_config_starts_nothing(daemon, tmp_path: Path) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n  depends_on: [a]\n", start=False)
    result = traderctl(d, "supervise")
    assert result.returncode == 2
    assert "services.a.depends_on: a service cannot depend on itself" in result.stderr
    assert not Path(d.socket).exists()


def test_second_supervisor_on_the_same_data_dir_is_refused_and_kills_nothing(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    pid = d.wait_state("a", "running")["pid"]
    result = traderctl(d, "supervise")
    assert result.returncode == 1 and "another supervisor" in result.stderr
    assert "stale" not in result.stderr
    assert d.service("a")["pid"] == pid and d.service("a")["state"] == "running"


def test_sd_notify_ready_status_watchdog_and_stopping(daemon, tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(10)
        os.environ["NOTIFY_SOCKET"] = path
        os.environ["WATCHDOG_USEC"] = "200000"
        try:
            d = daemon(f"a:\n  command: {child('sleeper')}\n")
        finally:
            del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]
        messages = [sock.recv(4096).decode() for _ in range(3)]
        assert any(m.startswith("READY=1\nSTATUS=") for m in messages)
        assert "WATCHDOG=1" in messages
        d.stop()
        while "STOPPING=1" not in (m := sock.recv(4096).decode()):
            pass
        assert m.startswith("STOPPING=1")


def test_graph_and_dot(daemon) -> None:
    d = daemon(f"""
        tws:
          command: {child("sleeper")}
        data:
          command: {child("sleeper")}
          depends_on: [tws]
    """)
    d.wait_state("data", "running")
    assert traderctl(d, "graph").stdout.splitlines() == [
        "tws [running] <- -", "data [running] <- tws"]
    dot = traderctl(d, "graph", "--dot").stdout
    assert dot.startswith("digraph traderctl {") and '"tws" -> "data";' in dot


def test_logs_and_events_commands(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    wait_until(lambda: len(d.events("service_output", service="a")) == 2, 5, "output")
    lines = traderctl(d, "logs", "a", "-n", "5").stdout.splitlines()
    assert lines[0].endswith("stdout sleeper up") and lines[1].endswith("stderr to stderr")
    events = [json.loads(x) for x in traderctl(d, "events", "--json").stdout.splitlines()]
    assert {"supervisor_started", "service_state"} <= {e["event"] for e in events}


def test_systemd_unit_names_this_install(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n", start=False)
    unit = traderctl(d, "systemd-unit").stdout
    assert "Type=notify" in unit and "KillMode=mixed" in unit and "WatchdogSec=" in unit
    assert f"ExecStart={sys.executable} -m traderctl --config {d.config} supervise" in unit


def test_daemon_commands_work_while_the_file_is_broken(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.wait_state("a", "running")
    d.config.write_text(d.config.read_text() + "  b:\n    restart: sometimes\n")
    assert traderctl(d, "status").returncode == 0  # the running config is what counts
    assert traderctl(d, "restart", "a", "--wait").stdout == "a: running\n"
    assert traderctl(d, "reload").returncode == 1  # and a reload is refused by the daemon
