"""Operator commands against a real supervisor: status codes, reload, schedules, systemd."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from tests.commands.test_completion import complete
from tests.daemon.conftest import child, wait_until


def traderctl(d, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    full.update(d.extra_env)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "traderctl", "--config", str(d.config), *args],
                          capture_output=True, text=True, timeout=30, env=full, check=False)


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


def test_graph_and_dot_name_dependencies_only_where_there_are_some(daemon) -> None:
    d = daemon(f"""
        tws:
          command: {child("sleeper")}
        data:
          command: {child("sleeper")}
          depends_on: [tws]
    """)
    d.wait_state("data", "running")
    assert traderctl(d, "graph").stdout.splitlines() == [
        "tws [running]", "data [running] <- tws"]
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


STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"


def test_status_counts_only_services_that_should_be_running(daemon) -> None:
    # (autostart: false is in test_status_exit_codes)
    d = daemon(f"""
        up:
          command: {child("sleeper")}
        once:
          command: ["true"]
          restart: never
        tidy:
          command: ["true"]
          restart: on-failure
    """)
    d.wait_state("up", "running")
    wait_until(lambda: d.service("once")["last_exit"], 10, "the oneshot to finish")
    wait_until(lambda: d.service("tidy")["last_exit"], 10, "the oneshot to finish")
    result = traderctl(d, "status")
    assert result.returncode == 0, result.stdout
    d.config.write_text(d.config.read_text() + '  broken:\n    command: ["false"]\n'
                        "    restart: never\n")
    assert traderctl(d, "reload").returncode == 0
    wait_until(lambda: d.service("broken")["last_exit"], 10, "the failing oneshot")
    result = traderctl(d, "status", "--json")
    assert result.returncode == 3
    wanted = {s["name"]: s["should_run"] for s in json.loads(result.stdout)["services"]}
    assert wanted == {"up": True, "once": False, "tidy": False, "broken": True}


def test_daemon_commands_find_the_socket_while_the_file_does_not_parse(daemon, tmp_path) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n", socket=f"{tmp_path}/elsewhere/ctl.sock")
    d.wait_state("a", "running")
    d.config.write_text(d.config.read_text() + "  b: [unclosed\n")
    for args in (("status",), ("events", "-n", "3"), ("logs", "a"), ("graph",)):
        result = traderctl(d, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "the config file on disk is broken" in result.stderr
        assert f"{d.config}:" in result.stderr  # the problem, located
        assert f"last recorded socket {d.socket}" in result.stderr
    reload = traderctl(d, "reload")
    assert reload.returncode == 1 and "keeping the running one" in reload.stderr
    assert traderctl(d, "restart", "a", "--wait").stdout == "a: running\n"
    # without the record, --socket (or TRADERCTL_SUPERVISOR__SOCKET) says where
    elsewhere = {"XDG_STATE_HOME": str(tmp_path / "other")}
    assert traderctl(d, "status", **elsewhere).returncode == 4
    assert traderctl(d, "--socket", d.socket, "status", **elsewhere).returncode == 0
    assert traderctl(d, "status", TRADERCTL_SUPERVISOR__SOCKET=d.socket,
                     **elsewhere).returncode == 0


def test_logs_read_the_files_when_the_supervisor_is_down(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    wait_until(lambda: len(d.events("service_output", service="a")) == 2, 5, "output")
    live = traderctl(d, "logs", "a").stdout.splitlines()
    d.stop()
    result = traderctl(d, "logs", "a", "-n", "2")
    assert result.returncode == 0, result.stderr
    assert "no supervisor" in result.stderr and "a.log" in result.stderr
    assert result.stdout.splitlines() == live[-2:]
    assert re.match(STAMP + " stdout sleeper up$", live[0]), live
    follow = traderctl(d, "logs", "a", "-f")
    assert follow.returncode == 4 and "nothing to follow" in follow.stderr
    assert traderctl(d, "logs", "nosuch").returncode == 4


def test_logs_follow_says_when_the_supervisor_goes_away(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    wait_until(lambda: len(d.events("service_output", service="a")) == 2, 5, "output")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    follow = subprocess.Popen([sys.executable, "-m", "traderctl", "--config", str(d.config),
                               "logs", "a", "-f"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    assert follow.stdout is not None
    first = follow.stdout.readline()
    d.client.call("restart", names=["a"], wait=True)
    d.stop()
    out, err = follow.communicate(timeout=20)
    assert follow.returncode == 4 and "the supervisor went away" in err
    lines = [first, *out.splitlines()]
    assert all(re.match(STAMP + " std(out|err) ", line) for line in lines), lines


def test_events_print_lines_a_person_reads(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    wait_until(lambda: len(d.events("service_output", service="a")) == 2, 5, "output")
    lines = traderctl(d, "events", "-n", "100").stdout.splitlines()
    assert lines and not any("None" in line for line in lines)
    assert any(re.match(STAMP + r" service_state +a: starting -> running", x) for x in lines)
    assert any(re.match(STAMP + r" service_output +a stdout\| sleeper up$", x) for x in lines)


def test_an_unknown_service_gets_a_suggestion(daemon) -> None:
    d = daemon(f"tws:\n  command: {child('sleeper')}\n")
    result = traderctl(d, "status", "twss")
    assert result.returncode == 1
    assert "no such service: twss (did you mean tws?)" in result.stderr


def test_status_of_an_unchanged_file_reads_no_yaml(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.wait_state("a", "running")
    result = traderctl(d, "status")
    assert result.returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    env.update(d.extra_env)
    code = ("import runpy, sys; sys.argv = ['traderctl', '--config', sys.argv[1], 'status'];"
            "\ntry: runpy.run_module('traderctl', run_name='__main__')"
            "\nexcept SystemExit: pass"
            "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('yaml', 'click', 'pluggy', 'dataclasses')), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code, str(d.config)], capture_output=True,
                         text=True, env=env, timeout=30, check=False)
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr
    d.config.write_text(d.config.read_text() + "\n")  # changed: read again (and checked)
    run = subprocess.run([sys.executable, "-c", code, str(d.config)], capture_output=True,
                         text=True, env=env, timeout=30, check=False)
    assert "'yaml'" in run.stderr.strip().splitlines()[-1]


def test_service_names_complete_from_the_supervisor(daemon) -> None:
    d = daemon(f"running-one:\n  command: {child('sleeper')}\n")
    d.config.write_text(d.config.read_text().replace("running-one", "only-in-file"))
    assert complete(d.config, f"traderctl --config {d.config} stop r",
                    d.extra_env) == ["running-one"]


def test_supervise_on_a_terminal_prints_lines_a_person_reads(tmp_path: Path) -> None:
    config = tmp_path / "trader.yaml"
    config.write_text(f"supervisor:\n  socket: {tmp_path}/run/s.sock\n"
                      f"  data_dir: {tmp_path}/data\n"
                      f"services:\n  a:\n    command: {child('sleeper')}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.Popen([sys.executable, "-m", "traderctl", "--config", str(config),
                             "--log-format", "console", "supervise"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "a: starting -> running" in line:
            break
    proc.terminate()
    seen += proc.communicate(timeout=20)[1].splitlines()
    state = [x for x in seen if "service_state" in x]
    assert any("service_state a: stopped -> starting" in x for x in state), seen
    assert not any("None" in x or "=''" in x or "detail= " in x for x in seen), seen
