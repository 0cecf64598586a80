"""Real supervisors running ``tws`` services on the fake IBC launcher (and the simulator).

Every daemon here is a real ``traderctl supervise`` child process; every tws service
is a real ``ibc/fake/scripts/ibcstart.sh`` (IBC's arguments, config.ini, command
server and exit codes, with the TWS simulator behind it). Faults are injected over
the simulator's control port, as an operator would with ``nc``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import Daemon, assert_nothing_left, wait_until

REPO = Path(__file__).resolve().parents[2]
FAKE_IBC = REPO / "ibc" / "fake"
USERNAME = "trader-login-7Q"
PASSWORD = "Pw-9c7f2e1b-\\ secret"
# IBC's own pauses, shortened: the Gateway's RESTART at the next minute at most 0.5 s away,
# the 5 s before a re-login after an unanswered second-factor prompt 0.2 s
FAST_IBC = {"login_seconds": 0.2, "restart_seconds": 0.3, "script_restart_delay": 0.2,
            "restart_at_most": 0.5, "relogin_delay": 0.2}


def free_ports(count: int) -> list[int]:
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def sim_control(port: int, command: str, timeout: float = 5.0) -> str:
    """One line to the simulator's control port (what ``nc`` would do); returns the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(command.encode() + b"\n")
        reply = conn.makefile().readline().strip()
    assert reply.startswith("OK"), f"{command}: {reply}"
    return reply


class TwsRig:
    """Builds fast tws service specs on the fake IBC and starts a daemon with them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.services: dict[str, dict[str, Any]] = {}
        self.control_ports: dict[str, int] = {}
        self.api_ports: dict[str, int] = {}
        self.daemons: list[Daemon] = []

    def fake(self, name: str, scenario: dict[str, Any] | None = None,
             **overrides: Any) -> dict[str, Any]:
        api, command, control = free_ports(3)
        jts = self.root / "jts" / name
        jts.mkdir(parents=True, exist_ok=True)
        scenario_file = self.root / f"scenario-{name}.json"
        full = dict(scenario or {})
        full["ibc"] = {**FAST_IBC, **full.get("ibc", {})}
        scenario_file.write_text(json.dumps(full))
        spec: dict[str, Any] = {
            "type": "tws", "mode": "paper", "gateway": True, "tws_version": "1030",
            "tws_path": str(jts), "ibc_path": str(FAKE_IBC),
            "api_port": api, "command_server_port": command,
            "username": USERNAME, "password": PASSWORD,
            "probe_interval": "200ms", "probe_timeout": "500ms", "probe_failures": 2,
            "farm_grace": "300ms", "restart_timeout": "3s", "stop_grace": "3s",
            "startup_timeout": "20s", "reset_windows": [], "auto_restart_time": "",
            "cold_restart_time": "",
            "backoff": {"initial": "100ms", "jitter": 0},
            "env": {"TRADERCTL_PYTHON": sys.executable, "FAKE_IBC_SCENARIO": str(scenario_file),
                    "FAKE_IBC_CONTROL_PORT": str(control)},
        }
        spec.update(overrides)
        self.services[name] = spec
        self.control_ports[name] = control
        self.api_ports[name] = api
        return spec

    def add(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        self.services[name] = spec
        return spec

    def runtime_dir(self, name: str) -> Path:
        return self.root / "data" / "services" / name

    def control(self, name: str, command: str) -> str:
        return sim_control(self.control_ports[name], command)

    def start(self, env: dict[str, str] | None = None) -> Daemon:
        config = self.root / "trader.yaml"
        sock = f"{self.root}/run/traderctl.sock"
        doc = {"supervisor": {"socket": sock, "data_dir": str(self.root / "data")},
               "checks": {"ib_status": {"gate": False}},
               "services": self.services}
        config.write_text(json.dumps(doc, indent=1))  # JSON is YAML
        daemon = Daemon(self.root, config, sock)
        self.daemons.append(daemon)
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            return daemon.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop(timeout=60)  # a dozen launchers stopping on a loaded machine
        assert_nothing_left(self.root)


@pytest.fixture(scope="module")
def rig_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], TwsRig]]:
    rigs: list[TwsRig] = []

    def make(name: str) -> TwsRig:
        rig = TwsRig(tmp_path_factory.mktemp(name))
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def events_of(daemon: Daemon, name: str, **match: Any) -> list[dict[str, Any]]:
    return daemon.events(name, **match)


__all__ = ["PASSWORD", "USERNAME", "TwsRig", "events_of", "free_ports", "sim_control",
           "wait_until"]
