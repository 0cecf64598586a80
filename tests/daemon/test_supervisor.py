"""The supervisor with real child processes: restarts, backoff, limits, graph, stop."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from tests.daemon.conftest import child, wait_until

FAST = "backoff: {initial: 200ms, factor: 2, max: 2s, jitter: 0}"


def ts(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


def test_crash_is_restarted_at_once_after_a_stable_run(daemon) -> None:
    d = daemon(f"""
        web:
          command: {child("sleeper", 0.8, 3)}
          stable_after: 500ms
          {FAST}
    """)
    first = d.wait_state("web", "running")
    wait_until(lambda: d.service("web")["restarts"] >= 1, 5, "a restart")
    again = d.wait_state("web", "running")
    assert again["pid"] != first["pid"]
    exit_event = d.events(service="web", to="backoff")[0]
    assert exit_event["exit_code"] == 3 and "restart in 0.0s" in exit_event["detail"]
    respawn = d.events(service="web", to="starting")[1]
    assert ts(respawn) - ts(exit_event) < 0.5


def test_backoff_grows_then_start_limit_fails_until_operator(daemon) -> None:
    d = daemon(f"""
        flaky:
          command: {child("sleeper", 0, 1)}
          {FAST}
          start_limit: {{burst: 4, interval: 30s}}
    """)
    failed = d.wait_state("flaky", "failed", timeout=15)
    assert "more than 4 failures" in failed["detail"]
    spawns = [ts(e) for e in d.events(service="flaky", to="starting")]
    gaps = [b - a for a, b in itertools.pairwise(spawns)]
    assert len(spawns) == 5
    assert gaps[0] < 0.3  # the first restart is immediate
    assert 0.15 < gaps[1] < 0.5 and 0.35 < gaps[2] < 0.8 and 0.75 < gaps[3] < 1.4
    time.sleep(0.5)
    assert d.service("flaky")["state"] == "failed"  # no more attempts on its own
    d.client.call("start", names=["flaky"])
    wait_until(lambda: len(d.events(service="flaky", to="starting")) > 5, 5, "operator start")


def test_readiness_gates_dependents(daemon, tmp_path: Path) -> None:
    port = free_port()
    d = daemon(f"""
        tws:
          command: {child("listen_later", port, 0.6)}
          readiness: {{tcp: "127.0.0.1:{port}", timeout: 10s, interval: 50ms}}
        strategy:
          command: {child("sleeper")}
          depends_on: [tws]
    """)
    assert d.service("strategy")["detail"] == "waiting for tws"
    d.wait_state("strategy", "running")
    tws_running = d.events(service="tws", to="running")[0]
    strategy_start = d.events(service="strategy", to="starting")[0]
    assert ts(strategy_start) >= ts(tws_running)
    assert ts(tws_running) - ts(d.events(service="tws", to="starting")[0]) >= 0.5


def test_dependency_loss_stops_dependents_and_recovery_restarts_them(daemon) -> None:
    d = daemon(f"""
        data:
          command: {child("sleeper")}
          {FAST}
        strategy:
          command: {child("sleeper")}
          depends_on: [data]
        report:
          command: {child("sleeper")}
          depends_on: [strategy]
    """)
    d.wait_state("report", "running")
    old = d.service("strategy")["pid"]
    os.kill(d.service("data")["pid"], signal.SIGKILL)
    wait_until(lambda: d.service("strategy")["pid"] not in (old, None), 10, "a new strategy")
    d.wait_state("strategy", "running")
    d.wait_state("report", "running")
    stopping = d.events(service="strategy", to="stopping")[0]
    assert stopping["detail"] == "dependency data is backoff"
    d.client.call("stop", names=["data"], wait=True)
    assert d.wait_state("strategy", "waiting")["detail"] == "waiting for data"
    assert d.wait_state("report", "waiting")["detail"] == "waiting for strategy"
    d.client.call("start", names=["data"])
    d.wait_state("report", "running")


def test_stop_leaves_nothing_behind(daemon, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    d = daemon(f"""
        stubborn:
          command: {child("stubborn", pids_file)}
          stop: {{timeout: 500ms}}
    """)
    d.wait_state("stubborn", "running")
    wait_until(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 3, 5, "pids")
    pids = [int(p) for p in pids_file.read_text().split()]
    d.client.call("stop", names=["stubborn"], wait=True, timeout=10)
    assert d.service("stubborn")["state"] == "stopped"
    wait_until(lambda: not any(alive(p) for p in pids), 3, "all three processes to be gone")


def test_sigkill_of_the_supervisor_leaves_no_child(daemon, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    services = f"""
        stubborn:
          command: {child("stubborn", pids_file)}
        plain:
          command: {child("sleeper")}
    """
    d = daemon(services)
    d.wait_state("plain", "running")
    wait_until(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 3, 5, "pids")
    direct = [d.service("plain")["pid"], d.service("stubborn")["pid"]]
    grandchildren = [int(p) for p in pids_file.read_text().split() if int(p) not in direct]
    d.proc.kill()
    d.proc.wait()
    wait_until(lambda: not any(alive(p) for p in direct), 3, "direct children to die")
    pids_file.unlink()
    again = daemon(services)  # the next start cleans up what the dead one left
    assert not any(alive(p) for p in grandchildren)
    assert again.events("stale_children_killed")
    again.wait_state("plain", "running")


def test_socket_is_private(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    mode = os.stat(d.socket).st_mode & 0o777
    assert mode == 0o600
    assert os.stat(os.path.dirname(d.socket)).st_mode & 0o777 == 0o700


def test_malformed_control_messages_get_errors(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    replies = [raw_request(d.socket, payload) for payload in (
        b"not json\n", b"[1, 2]\n", b'{"cmd": 5}\n', b'{"cmd": "nope"}\n',
        b'{"cmd": "status", "args": []}\n', b'{"cmd": "start", "args": {"names": "a"}}\n',
        b"\xff\xfe\n", b"x" * 70000 + b"\n", b'{"cmd": "status"')]
    assert all(r.startswith(b'{"ok": false') for r in replies), replies
    assert b"larger than" in replies[7] and b"unknown command" in replies[3]
    assert d.service("a")["state"] == "running"


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_peer_uid_is_checked(daemon) -> None:
    shared = tempfile.mkdtemp(prefix="traderctl-uid-test-")
    os.chmod(shared, 0o755)
    d = daemon(f"a:\n  command: {child('sleeper')}\n", socket=f"{shared}/run/ctl.sock")
    os.chmod(os.path.dirname(d.socket), 0o755)
    os.chmod(d.socket, 0o666)  # even with the file open, the uid check refuses
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setuid(65534)
            reply = raw_request(d.socket, b'{"cmd": "status"}\n')
            code = 0 if b"permission denied" in reply else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert any(r["event"] == "control_denied" for r in d.log_records())


def test_audit_events_name_the_caller(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.client.call("restart", names=["a"], wait=True)
    (audit,) = d.events("control_request")
    assert audit["cmd"] == "restart" and audit["uid"] == os.getuid()
    assert audit["pid"] == os.getpid()


def test_output_lines_become_events_and_log_files(daemon, tmp_path: Path) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    wait_until(lambda: len(d.events("service_output", service="a")) == 2, 5, "two lines")
    streams = {e["stream"]: e["line"] for e in d.events("service_output", service="a")}
    assert streams == {"stdout": "sleeper up", "stderr": "to stderr"}
    text = (tmp_path / "data" / "logs" / "a.log").read_text()
    assert " stdout sleeper up" in text and " stderr to stderr" in text
    assert d.client.call("logs", name="a", lines=1)["lines"][0].endswith("stderr to stderr")


def test_events_stream_to_several_subscribers(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.wait_state("a", "running")
    streams = [d.client.stream("events", follow=True, limit=0, events=["service_state"])
               for _ in range(3)]
    d.client.call("restart", names=["a"])
    for s in streams:
        seen = [next(s)["to"] for _ in range(3)]
        assert seen == ["stopping", "starting", "running"]
        s.close()


def test_log_rotation_by_size(daemon, tmp_path: Path) -> None:
    d = daemon("""
        chatty:
          command: ["sh", "-c", "for i in $(seq 400); do echo line-$i-pad-pad; done; sleep 60"]
    """, extra="log_max_bytes: 4096\nlog_backups: 2\n")
    logs = tmp_path / "data" / "logs"
    def everything() -> str:
        text = ""
        for path in logs.glob("chatty.log*"):
            try:
                text += path.read_text()
            except FileNotFoundError:  # rotated away between the listing and the read
                return ""
        return text

    wait_until(lambda: "line-400-" in everything(), 5, "the last line")
    assert (logs / "chatty.log.2").exists() and not (logs / "chatty.log.3").exists()
    assert all(p.stat().st_size <= 4096 + 200 for p in logs.glob("chatty.log*"))
    assert d.service("chatty")["state"] == "running"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_request(path: str, payload: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except BrokenPipeError:
            pass  # the server answered and hung up before reading it all
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data.split(b"\n")[0]


def test_relative_command_is_taken_from_the_config_folder(daemon, tmp_path: Path) -> None:
    script = tmp_path / "bin" / "hello.sh"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\necho hello from $0\nexec {sys.executable} -c "
                      "'import time; time.sleep(3600)'\n")
    script.chmod(0o700)
    d = daemon("rel:\n  command: bin/hello.sh\n  readiness: {after: 100ms}\n")
    assert os.getcwd() != str(tmp_path)  # the supervisor's cwd is the test's, not tmp_path
    d.wait_state("rel", "running")
