"""One service's life: wait for dependencies, spawn, probe, run, stop, back off, give up.

Each service is one asyncio task looping over :meth:`ServiceRunner._cycle`.
Everything that can interrupt a phase (the child exiting, an operator, a
dependency going down, a failing liveness probe) is awaited together, so the
runner reacts the moment something happens instead of on a polling tick (the
waits themselves are in :mod:`traderctl.services.probing`). The runner knows its
host only as a :class:`~traderctl.services.host.ServiceHost`.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from traderctl.events import utcnow
from traderctl.services.backoff import Backoff, StartLimit
from traderctl.services.driver import Driver
from traderctl.services.environment import child_environment
from traderctl.services.probing import probe_until_ok, race, watch_liveness
from traderctl.services.process import (
    Child,
    clean_after_exit,
    kill_group,
    spawn,
    terminate_tree,
)

if TYPE_CHECKING:
    from traderctl.services.host import ServiceHost
    from traderctl.services.spec import ServiceSpec

STATES = ("stopped", "waiting", "starting", "running", "unhealthy", "backoff", "stopping",
          "failed")


class ServiceRunner:
    def __init__(self, name: str, spec: ServiceSpec, host: ServiceHost) -> None:
        self.name = name
        self.spec = spec
        self.host = host
        self.state = "stopped"
        self.detail = ""
        self.child: Child | None = None
        self.restarts = 0
        self.last_exit: dict[str, Any] | None = None
        self.want_up = bool(spec["autostart"])
        self.failed = False
        self.closing = False
        self.restart_requested = False
        self.not_before = 0.0
        self.spawned_at = 0.0
        self.ready_at: float | None = None
        self.since = utcnow()
        self.backoff = Backoff(spec["backoff"])
        self.limit = StartLimit(spec["start_limit"])
        self.wake = asyncio.Event()
        self.interrupt = asyncio.Event()
        self.interrupt_reason = ""
        self.driver: Driver = host.make_driver(self)
        self.task: asyncio.Task[None] | None = None

    # ---- operator and supervisor requests -------------------------------------------------

    def start(self, reason: str = "operator") -> None:
        self.want_up = True
        if self.failed:
            self.failed = False
            self.limit.reset()
            self.backoff.reset()
            self.not_before = 0.0
        self.wake.set()

    def stop(self, reason: str = "operator") -> None:
        self.want_up = False
        self._interrupt(reason)

    def restart(self, reason: str = "operator") -> None:
        self.start(reason)
        if self.child is not None:
            self.restart_requested = True
            self._interrupt(reason)
        self.not_before = 0.0

    def dependency_lost(self, dependency: str, state: str) -> None:
        if self.child is not None:
            self._interrupt(f"dependency {dependency} is {state}")
        self.wake.set()

    def poke(self) -> None:
        self.wake.set()

    async def shutdown(self) -> None:
        """Stop the loop and its child; a loop that crashed still leaves no child behind."""
        self.closing = True
        self.stop("shutdown")
        if self.task is not None:
            try:
                await self.task
            except Exception:
                pass  # already logged by the supervisor's task callback
        if self.child is not None:
            child, self.child = self.child, None
            await terminate_tree(child, signal.SIGKILL, 0.0, self.host.owner)

    def _interrupt(self, reason: str) -> None:
        self.interrupt_reason = reason
        self.interrupt.set()
        self.wake.set()

    # ---- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        while not self.closing:
            await self._cycle()
        if self.state != "stopped":
            self._set("stopped", "shutdown", reason="shutdown")

    async def _cycle(self) -> None:
        self.wake.clear()
        if not self.want_up or self.failed:
            if self.state not in ("stopped", "failed"):
                self._set("failed" if self.failed else "stopped", self.detail)
            await self.wake.wait()
            return
        missing = self.host.missing_dependencies(self.name)
        if missing:
            self._set("waiting", "waiting for " + ", ".join(missing))
            await self.wake.wait()
            return
        hold = await self.driver.hold_reason()
        if hold:
            self._set("waiting", hold)
            await _wait_event(self.wake, 5.0)
            return
        remaining = self.not_before - time.monotonic()
        if remaining > 0:
            self._set("backoff", f"restart in {remaining:.1f}s")
            await _wait_event(self.wake, remaining)
            return
        await self._run_once()

    async def _run_once(self) -> None:
        self.interrupt.clear()
        self.ready_at = None
        try:
            launch = await self.driver.prepare()
            child = await spawn(launch.argv, service=self.name, owner=self.host.owner,
                                cwd=launch.cwd, env=launch.env, on_line=self._on_line,
                                cgroup=self.host.cgroup_for(self.name))
        except (OSError, ValueError) as exc:
            self._set("backoff", f"cannot start: {exc}")
            self._after_failure(None, f"cannot start: {exc}")
            return
        self.child = child
        self.spawned_at = time.monotonic()
        self.host.record_child(self.name, child)
        self._set("starting", self.driver.starting_detail(), reason="spawned")
        outcome = await self._until_ready(child)
        if outcome == "ready":
            self.ready_at = time.monotonic()
            self._set("running", self.driver.running_detail(), reason="ready")
            outcome = await self._while_running(child)
        await self._finish(child, outcome)

    async def _until_ready(self, child: Child) -> str:
        settings = self.driver.readiness()
        if settings is None:
            return "ready" if not child.exited.done() else "exited"
        return await race(child, self.interrupt, probe_until_ok(self.driver, settings))

    async def _while_running(self, child: Child) -> str:
        settings = self.driver.liveness()
        work: list[Awaitable[str]] = []
        if settings is not None:
            work.append(watch_liveness(self.driver, settings, self._set))
        extra = self.driver.running_task()
        if extra is not None:
            work.append(extra)
        return await race(child, self.interrupt, *work)

    async def _finish(self, child: Child, outcome: str) -> None:
        if outcome == "exited":
            code = child.exited.result()
            kill_group(child)
            # the stray search reads every process's environment (~10 ms): not on the
            # path to the replacement, which is started right away
            self.host.spawn_task(clean_after_exit(child, self.host.owner))
            self._record_exit(child, code)
            self._after_exit(child, code)
            return
        planned = outcome == "interrupted"
        reason = self.interrupt_reason if planned else outcome
        self._set("stopping", reason, reason=reason)
        await self.driver.before_stop(child)
        stop = self.spec["stop"]
        code = await terminate_tree(child, signal.Signals["SIG" + stop["signal"]],
                                    stop["timeout"], self.host.owner)
        self._record_exit(child, code)
        if planned:
            if self.restart_requested:
                self.restart_requested = False
                self.restarts += 1
            if not self.want_up:
                self._set("stopped", reason, reason=reason)
        else:
            self._after_failure(code, outcome)

    def _record_exit(self, child: Child, code: int) -> None:
        self.child = None
        self.host.record_child(self.name, None)
        self.last_exit = {"pid": child.pid, **exit_fields(code), "at": utcnow().isoformat()}

    def _after_exit(self, child: Child, code: int) -> None:
        policy = self.spec["restart"]
        detail = self.driver.exit_detail(code) or describe_exit(code)
        if policy == "never" or (policy == "on-failure" and code == 0):
            self.want_up = False
            self._set("stopped", detail, reason="exited")
            return
        self._after_failure(code, detail)

    def _after_failure(self, code: int | None, why: str) -> None:
        if (gave_up := self.driver.give_up()) is not None:
            self.failed = True
            self._set("failed", f"{gave_up}; waiting for an operator", reason="gave_up")
            return
        now = time.monotonic()
        if self.ready_at is not None and now - self.ready_at >= self.spec["stable_after"]:
            self.backoff.reset()
        if self.limit.record(now):
            self.failed = True
            limit = self.spec["start_limit"]
            self._set("failed", f"{why}; more than {limit['burst']} failures in "
                                f"{limit['interval']:g}s, waiting for an operator",
                      reason="start_limit")
            return
        delay = self.backoff.next_delay()
        self.not_before = now + delay
        self.restarts += 1
        self._set("backoff", f"{why}; restart in {delay:.1f}s", reason="exited")

    # ---- state, events, output --------------------------------------------------------------

    def _set(self, state: str, detail: str, reason: str = "") -> None:
        if state == self.state and detail == self.detail:
            return
        old = self.state
        self.state, self.detail = state, detail
        if old != state:
            self.since = utcnow()
        self.host.state_changed(self, old, reason)

    def set_detail(self, detail: str) -> None:
        """For drivers: update the free-text detail (e.g. the IB session) without a transition."""
        self._set(self.state, detail)

    def _on_line(self, stream: str, line: str) -> None:
        self.host.child_output(self, stream, line)
        self.driver.on_output(stream, line)

    def child_env(self) -> dict[str, str]:
        return child_environment(self.spec.get("env", {}))

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.spec["type"], "state": self.state,
            "detail": self.detail, "pid": self.child.pid if self.child else None,
            "since": self.since.isoformat(), "restarts": self.restarts,
            "autostart": self.spec["autostart"], "depends_on": self.spec["depends_on"],
            "last_exit": self.last_exit, **self.driver.status_fields(),
        }


def exit_fields(code: int) -> dict[str, Any]:
    if code < 0:
        return {"exit_code": None, "signal": signal.Signals(-code).name}
    return {"exit_code": code, "signal": None}


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pass
