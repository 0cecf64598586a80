"""A real ``traderctl supervise`` in a child process, configured in tmp_path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from traderctl.daemon.client import ControlClient, DaemonUnreachable

CHILDREN = Path(__file__).parent / "children"


class Daemon:
    def __init__(self, root: Path, config: Path, socket: str,
                 env: dict[str, str] | None = None) -> None:
        self.extra_env = env or {}
        self.root = root
        self.config = config
        self.socket = socket
        self.client = ControlClient(self.socket, timeout=10)
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_path = root / "supervisor.err"

    def start(self) -> Daemon:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
        env.update(self.extra_env)
        with self.stderr_path.open("a") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "traderctl", "--config", str(self.config),
                 "--log-format", "json", "supervise"],
                stdout=subprocess.DEVNULL, stderr=err, text=True, env=env)
        wait_until(self._answers, 10, "supervisor socket")
        return self

    def _answers(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(f"supervisor exited {self.proc.returncode}:\n{self.stderr()}")
        try:
            self.client.call("ping")
        except (DaemonUnreachable, OSError):
            return False
        return True

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr().splitlines() if line.startswith("{")]

    def service(self, name: str) -> dict[str, Any]:
        (found,) = self.client.call("status", names=[name])["services"]
        return found

    def wait_state(self, name: str, state: str, timeout: float = 10) -> dict[str, Any]:
        wait_until(lambda: self.service(name)["state"] == state, timeout,
                   f"{name} to be {state} (is {self.service(name)})")
        return self.service(name)

    def events(self, name: str = "service_state", **match: Any) -> list[dict[str, Any]]:
        found = self.client.call("events", limit=2000, events=[name])["events"]
        return [e for e in found if all(e.get(k) == v for k, v in match.items())]

    def stop(self, timeout: float = 20) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def child(name: str, *args: Any) -> str:
    """A YAML flow list running one of the helper scripts in tests/daemon/children."""
    return json.dumps([sys.executable, str(CHILDREN / f"{name}.py"), *map(str, args)])


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def make(services: str, extra: str = "", start: bool = True,
             socket: str | None = None, env: dict[str, str] | None = None) -> Daemon:
        """``extra``: more keys of the supervisor section."""
        config = tmp_path / "trader.yaml"
        socket = socket or f"{tmp_path}/run/traderctl.sock"
        config.write_text(textwrap.dedent(f"""
            supervisor:
              socket: {socket}
              data_dir: {tmp_path}/data
            """) + textwrap.indent(textwrap.dedent(extra), "  ") + "services:\n"
            + textwrap.indent(textwrap.dedent(services), "  "))
        # the last-good-socket records (cli/target.py) go under tmp_path too
        d = Daemon(tmp_path, config, socket,
                   {"XDG_STATE_HOME": f"{tmp_path}/state", **(env or {})})
        started.append(d)
        return d.start() if start else d

    yield make
    for d in started:
        d.stop()
    assert_nothing_left(tmp_path)


def assert_nothing_left(root: Path) -> None:
    """No process started by a supervisor under ``root`` may outlive its test."""
    leftovers = [p for p in psutil.process_iter() if _owned_by(p, root)]
    for p in leftovers:
        p.kill()
    assert not leftovers, f"processes left behind: {leftovers}"


def _owned_by(proc: psutil.Process, root: Path) -> bool:
    try:
        return proc.environ().get("TRADERCTL_OWNER", "").startswith(str(root))
    except (psutil.Error, OSError):
        return False
