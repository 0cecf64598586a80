"""The service runner on a host of the test's own: ``services/`` needs no supervisor.

:class:`Host` is a double of :class:`traderctl.services.host.ServiceHost` (our interface,
not a mock of our code): it records what the runner tells its host. The children are real
processes, the probes real probes, the spec the one the config layer builds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import textwrap
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from tests.conftest import write
from traderctl.aiotasks import cancel_and_wait
from traderctl.config.loader import Config, load_config
from traderctl.config.schema import Field, Section
from traderctl.events import Event
from traderctl.services.driver import Driver
from traderctl.services.host import ServiceHost
from traderctl.services.probes import ProbeType
from traderctl.services.probes_builtin import builtin_probe_types
from traderctl.services.process import Child
from traderctl.services.runner import ServiceRunner
from traderctl.services.spec import services_section
from traderctl.services.types import ServiceType

PROBES = {p.name: p for p in builtin_probe_types()}
TYPES = {"process": ServiceType("process")}


def load(tmp_path: Path, services: str) -> Config:
    schema = Section({"services": Field(services_section(TYPES, PROBES), {})})
    text = "services:\n" + textwrap.indent(textwrap.dedent(services).strip("\n"), "  ") + "\n"
    return load_config(schema, str(write(tmp_path / "services.yaml", text)), env={})


class Host:
    """What the runner sees of a supervisor, recorded."""

    def __init__(self, config: Config, data_dir: Path,
                 driver: Callable[[ServiceRunner], Driver] = Driver) -> None:
        self.config = config
        self.owner = os.path.realpath(data_dir)
        self.driver = driver
        self.events: list[Event] = []
        self.transitions: list[tuple[str, str, str]] = []  # (from, to, reason)
        self.children: list[int | None] = []
        self.lines: list[tuple[str, str]] = []
        self.tasks: set[asyncio.Task[Any]] = set()

    def service_dir(self, name: str) -> str:
        return os.path.join(self.owner, "services", name)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def spawn_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        return task

    def make_driver(self, runner: ServiceRunner) -> Driver:
        return self.driver(runner)

    def probe_type(self, kind: str) -> ProbeType:
        return PROBES[kind]

    def missing_dependencies(self, name: str) -> list[str]:
        return []

    def cgroup_for(self, name: str) -> str | None:
        return None

    def record_child(self, name: str, child: Child | None) -> None:
        self.children.append(child.pid if child else None)

    def state_changed(self, runner: ServiceRunner, old: str, reason: str) -> None:
        if old != runner.state:
            self.transitions.append((old, runner.state, reason))

    def child_output(self, runner: ServiceRunner, stream: str, line: str) -> None:
        self.lines.append((stream, line))

    def states(self) -> list[str]:
        return [to for _old, to, _reason in self.transitions]


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def run_service(host: Host, name: str,
                      body: Callable[[ServiceRunner], Coroutine[Any, Any, None]]) -> None:
    as_host: ServiceHost = host  # the double is a ServiceHost (mypy checks this line's kind)
    runner = ServiceRunner(name, host.config.section("services")[name], as_host)
    runner.task = asyncio.ensure_future(runner.run())
    try:
        await body(runner)
    finally:
        await asyncio.wait_for(runner.shutdown(), 15)
        await cancel_and_wait(list(host.tasks))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_oneshot_on_a_host_double_reports_its_life_to_the_host(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('hello from the child')"]
    host = Host(load(tmp_path, f"""
        once:
          command: {command!r}
          restart: never
    """), tmp_path)

    async def body(runner: ServiceRunner) -> None:
        await until(lambda: runner.last_exit is not None and runner.state == "stopped", 10,
                    "the run to end")

    asyncio.run(run_service(host, "once", body))
    assert host.states() == ["starting", "running", "stopped"]
    assert host.transitions[-1][2] == "exited"
    assert host.lines == [("stdout", "hello from the child")]
    assert len(host.children) == 2 and host.children[0] and host.children[1] is None


class SecondFactorDriver(Driver):
    """A running service that waits on a human (IBC re-logging in, the phone asked) until the
    test says the wait is over: what the tws driver's ``waiting_on`` says then."""

    pending: str | None = "second factor pending on IB Key"

    def waiting_on(self) -> str | None:
        return self.pending


def test_liveness_failures_while_a_second_factor_is_pending_on_a_running_service_do_not_count(
        tmp_path: Path) -> None:
    host = Host(load(tmp_path, f"""
        gateway:
          command: [sleep, "60"]
          liveness: {{tcp: "127.0.0.1:{closed_port()}", interval: 50ms, failures: 2,
                      timeout: 1s}}
    """), tmp_path, SecondFactorDriver)

    async def body(runner: ServiceRunner) -> None:
        await until(lambda: runner.state == "running", 10, "running")
        pid = runner.child.pid if runner.child else None
        driver = runner.driver
        assert isinstance(driver, SecondFactorDriver)
        await asyncio.sleep(1.0)  # 20 failed probes, two in a row are enough otherwise
        assert host.states() == ["starting", "running"]
        assert runner.child is not None and runner.child.pid == pid and runner.restarts == 0
        driver.pending = None  # approved: failures count again
        await until(lambda: "backoff" in host.states(), 10, "the restart after the wait")
        assert host.states()[2:5] == ["unhealthy", "stopping", "backoff"]
        assert ("running", "unhealthy", "liveness") in host.transitions

    asyncio.run(run_service(host, "gateway", body))
