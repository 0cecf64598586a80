"""The control socket under attack: its directory, its path, the server's uid, garbage
arguments, idle and surplus connections, and the audit trail."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import child, wait_until
from traderctl.daemon.client import ControlClient, UntrustedServer
from traderctl.daemon.control import ControlServer, Peer

NOBODY = 65534
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")


def supervise(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    return subprocess.run([sys.executable, "-m", "traderctl", "--config", str(config),
                           "supervise"], capture_output=True, text=True, timeout=30, env=env,
                          check=False)


def write_config(tmp_path: Path, socket_path: str) -> Path:
    config = tmp_path / "trader.yaml"
    config.write_text(f"supervisor:\n  socket: {socket_path}\n  data_dir: {tmp_path}/data\n"
                      f"services:\n  a:\n    command: {child('sleeper')}\n")
    return config


def raw(path: str, payload: bytes) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(payload)
        data = b""
        while b"\n" not in data and (chunk := s.recv(65536)):
            data += chunk
    return json.loads(data.split(b"\n")[0])


@needs_root
def test_a_socket_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    planted = tmp_path / "traderctl-0"
    planted.mkdir(mode=0o700)
    os.chown(planted, NOBODY, NOBODY)
    result = supervise(write_config(tmp_path, f"{planted}/traderctl.sock"))
    assert result.returncode == 1, result.stderr
    assert f"socket directory {planted} belongs to uid {NOBODY}" in result.stderr
    assert not any(planted.iterdir())
    assert not (tmp_path / "data" / "logs" / "a.log").exists()  # nothing was started


def test_a_socket_directory_writable_by_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = supervise(write_config(tmp_path, f"{shared}/traderctl.sock"))
    assert result.returncode == 1
    assert "is writable by others (mode 0777)" in result.stderr


def test_a_regular_file_at_the_socket_path_is_never_deleted(tmp_path: Path) -> None:
    precious = tmp_path / "run" / "notes.txt"
    precious.parent.mkdir(mode=0o700)
    precious.write_text("do not lose me")
    result = supervise(write_config(tmp_path, str(precious)))
    # refused as a config problem at load (the daemon refuses it again when it binds)
    assert result.returncode == 2
    assert "exists and is not a socket" in result.stderr
    assert precious.read_text() == "do not lose me"


def test_a_stale_socket_is_replaced(daemon, tmp_path: Path) -> None:
    path = tmp_path / "run" / "traderctl.sock"
    path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX) as left_over:
        left_over.bind(str(path))  # bound, never listening, never removed: a crash's leftover
    d = daemon(f"a:\n  command: {child('sleeper')}\n", socket=str(path))
    assert d.client.call("ping")["pid"] == d.proc.pid


@needs_root
def test_the_client_refuses_a_server_of_another_user() -> None:
    where = Path(tempfile.mkdtemp(prefix="traderctl-impostor-"))  # tmp_path: 0700, root's
    where.chmod(0o777)
    path = str(where / "traderctl.sock")
    received = where / "received"
    ready = where / "ready"
    pid = os.fork()
    if pid == 0:  # an impostor listening as nobody
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with socket.socket(socket.AF_UNIX) as server:
                server.bind(path)
                server.listen()
                os.chmod(path, 0o777)
                os.close(os.open(ready, os.O_CREAT | os.O_WRONLY, 0o666))
                conn, _ = server.accept()
                conn.settimeout(2)
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    data = b""
                with open(received, "wb") as fh:
                    fh.write(data)
                if data:
                    conn.sendall(b'{"ok": true, "result": {"services": []}}\n')
        finally:
            os._exit(0)
    try:
        wait_until(ready.exists, 10, "the impostor to listen")
        with pytest.raises(UntrustedServer, match=f"served by uid {NOBODY}"):
            ControlClient(path).call("status")
        os.waitpid(pid, 0)
        assert received.read_bytes() == b""  # it was told nothing
    finally:
        shutil.rmtree(where, ignore_errors=True)


@needs_root
def test_a_denied_connection_is_an_event(daemon) -> None:
    shared = Path(tempfile.mkdtemp(prefix="traderctl-uid-test-"))  # tmp_path: 0700, root's
    shared.chmod(0o755)
    d = daemon(f"a:\n  command: {child('sleeper')}\n", socket=f"{shared}/run/ctl.sock")
    os.chmod(os.path.dirname(d.socket), 0o755)  # opened up after the start: the uid
    os.chmod(d.socket, 0o666)                   # check still refuses
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setuid(NOBODY)
            code = 0 if raw(d.socket, b'{"cmd": "status"}\n')["error"] == "permission denied" \
                else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    (denied,) = d.events("control_denied")
    assert denied["uid"] == NOBODY and denied["reason"] == "uid not allowed"
    d.stop()
    shutil.rmtree(shared, ignore_errors=True)


def test_every_bad_request_gets_an_error_reply_and_changes_nothing(daemon) -> None:
    d = daemon(f"a:\n  command: {child('sleeper')}\n  autostart: false\n")
    deep = b"[" * 30_000 + b"]" * 30_000  # under the size limit, over the parser's depth
    bad = {
        b'{"cmd": "start", "args": {"names": ["a"], "wait": true, "timeout": "abc"}}':
            "timeout must be a number, got str",
        b'{"cmd": "start", "args": {"names": ["a"], "timeout": 1e400}}':
            "timeout must be a finite number",
        b'{"cmd": "start", "args": {"names": ["a"], "timeout": NaN}}':
            "timeout must be a finite number",
        b'{"cmd": "start", "args": {"names": ["a"], "wait": "yes"}}':
            "wait must be true or false",
        b'{"cmd": "start", "args": {"names": [1]}}': "names must be a list of names",
        b'{"cmd": "start", "args": {"names": ["a"], "bogus": 1}}': "unknown argument(s): bogus",
        b'{"cmd": "logs", "args": {"name": "a", "lines": ' + b"9" * 400 + b"}}":
            "lines must be between 0 and 100000",
        b'{"cmd": "logs", "args": {"name": ["a"]}}': "name must be a string",
        b'{"cmd": "events", "args": {"limit": -1}}': "limit must be between",
        b'{"cmd": "status", "args": {"names": ["b"]}}': "no such service: b",
        b'{"cmd": "start", "args": ' + deep + b"}": "malformed JSON: RecursionError",
        b'{"cmd": "status", "args": {}, "extra": 1}': "unexpected keys: extra",
    }
    for payload, message in bad.items():
        reply = raw(d.socket, payload + b"\n")
        assert reply["ok"] is False and message in reply["error"], (payload[:80], reply)
    assert d.service("a")["state"] == "stopped"  # the bad start never started it
    assert d.client.call("ping")["pid"] == d.proc.pid
    assert "Unhandled exception" not in d.stderr() and "Traceback" not in d.stderr()
    assert d.events("control_request") == []


def test_audit_records_survive_a_flood_of_output(daemon) -> None:
    d = daemon("""
        chatty:
          command: ["sh", "-c", "seq 3000; sleep 60"]
    """)
    d.client.call("restart", names=["chatty"], wait=True)
    wait_until(lambda: len(d.events("service_output", service="chatty")) >= 2000, 10,
               "the output flood")
    time.sleep(0.2)
    history = d.client.call("events", limit=100_000)["events"]
    names = {e["event"] for e in history}
    assert {"control_request", "service_state", "supervisor_started"} <= names


def test_idle_and_surplus_connections_are_closed(tmp_path: Path) -> None:
    async def handler(request: dict[str, Any], peer: Peer) -> Any:
        return {"echo": request["args"]}

    async def scenario() -> None:
        server = ControlServer(str(tmp_path / "run" / "s.sock"), handler,
                               idle_timeout=0.5, max_clients=3)
        await server.start()
        try:
            idle = [await asyncio.open_unix_connection(server.path) for _ in range(3)]
            reader, writer = await asyncio.open_unix_connection(server.path)
            writer.write(b'{"cmd": "x"}\n')
            reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
            assert reply == {"ok": False, "error": "too many connections (limit 3); try again"}
            writer.close()
            for r, w in idle:  # closed by the server once idle for 0.5 s
                assert await asyncio.wait_for(r.read(), 5) == b""
                w.close()
            wait = 0.0
            while server.clients and wait < 5:
                await asyncio.sleep(0.05)
                wait += 0.05
            reader, writer = await asyncio.open_unix_connection(server.path)
            writer.write(b'{"cmd": "x", "args": {"n": 1}}\n')
            assert json.loads(await asyncio.wait_for(reader.readline(), 5))["ok"] is True
            writer.close()
        finally:
            await server.close()

    asyncio.run(scenario())
