"""TwsDriver: TWS / IB Gateway through IBC (or the simulator) as a session-aware service.

The driver answers the runner's questions and leaves the work to four parts:

* :mod:`traderctl.tws.launch`: IBC's ``config.ini`` (0600, every start) and
  ``ibcstart.sh``'s argv; ``mode: simulated`` spawns the simulator instead.
* :mod:`traderctl.tws.login`: IBC's lines about the login (:mod:`.ibclines`):
  second-factor waits (the readiness deadline stands still, liveness failures are
  not counted, ``second_factor_limit`` gives up) and login failures (the service
  goes ``failed`` at once: IBC would retry the same password until IB locks it).
* :mod:`traderctl.tws.outages`: IB's reset windows, IBC's daily and Sunday restarts,
  and the restarts IBC announces (``Re-starting session``, ``IBC will cold-restart
  shortly``), during which failures are waited out.
* :mod:`traderctl.tws.remedies`: RECONNECTDATA / RECONNECTACCOUNT while running;
  for a hung API: wait out an outage, RESTART, then STOP and a cold start.

Readiness and liveness are :class:`traderctl.tws.session.ApiProbe` (``reqCurrentTime``
on a reserved client id): a hung API is detected within ``probe_interval x
probe_failures + probe_timeout``. Exit codes of ``ibcstart.sh`` and IBC
(:data:`.ibclines.EXIT_CODES`) are named in the detail and in ``tws_ibc_exit``; the
ones no retry can fix park the service in ``failed``.

Events: ``tws_ini_written``, ``tws_second_factor_pending`` / ``_timeout`` /
``_completed`` / ``_abandoned``, ``tws_login_failed``, ``tws_ibc_restart``,
``tws_ibc_returned``, ``tws_remedy`` (RECONNECTDATA | RECONNECTACCOUNT | RESTART |
STOP | terminate | cold_start), ``tws_action_suppressed``, ``tws_farm``,
``tws_connectivity``, ``tws_timezone``, ``tws_ibc_exit``. None carries a credential.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from traderctl.aiotasks import cancel_and_wait
from traderctl.events import Event
from traderctl.logs import get_logger
from traderctl.services.driver import Driver, Launch, ProbeSettings
from traderctl.services.probes import ProbeResult
from traderctl.tws.commandserver import CommandServerError, send_command
from traderctl.tws.ibclines import (
    EXIT_CODES,
    PERMANENT_EXIT_CODES,
    RETURNED_ONLY,
    IbcLine,
    classify,
)
from traderctl.tws.ini import IniError
from traderctl.tws.launch import HOST, IbcLaunch
from traderctl.tws.login import LoginTracker
from traderctl.tws.outages import ConfigProblem, Outages
from traderctl.tws.remedies import Remedies
from traderctl.tws.session import ApiProbe, SessionObserver
from traderctl.tws.status import session_detail, status_fields

if TYPE_CHECKING:
    from traderctl.services.process import Child
    from traderctl.services.runner import ServiceRunner
    from traderctl.tws.servicetype import TwsSpec

log = get_logger(__name__)


class TwsDriver(Driver):
    """The runner's questions for one tws service, answered with the four parts above."""

    spec: TwsSpec

    def __init__(self, runner: ServiceRunner) -> None:
        super().__init__(runner)
        spec = self.spec = cast("TwsSpec", runner.spec)  # the config layer built a tws spec
        self.name = runner.name
        self.launch = IbcLaunch(spec, self.name, runner.host.service_dir(self.name))
        self.simulated = self.launch.mode == "simulated"
        self.login = LoginTracker(self._emit, spec["two_factor_device"],
                                  spec["second_factor_limit"], self._secrets)
        self.outages = Outages(spec, self.name, self.simulated)
        self.remedies = Remedies(spec, self.name, self.launch.command_port, self._emit,
                                 self.login.waiting, lambda: self.give_up() is not None,
                                 self.outages.active, runner.set_detail)
        self.probe = self._new_probe()
        self.observer: SessionObserver | None = None
        self.ini_written = False
        self.refused: str | None = None  # configuration, or an exit no retry can fix
        self.last_exit: int | None = None
        self.ibc_version: str | None = None
        self.java_exit: int | None = None  # the last "IBC returned exit status N"

    def _new_probe(self) -> ApiProbe:
        return ApiProbe(HOST, self.launch.port, self.spec["probe_client_id"],
                        self.spec["probe_timeout"])

    def _emit(self, name: str, **fields: Any) -> None:
        self.runner.host.emit(Event(name, {"service": self.name, **fields}))

    def _secrets(self) -> list[str]:
        return [s for s in (self.spec["username"], self.spec["password"]) if s]

    def _refresh(self) -> None:
        """Show the session in the detail while running or starting (not over remedy texts)."""
        if self.runner.state in ("running", "starting"):
            self.runner.set_detail(self._detail())

    # ---- launch --------------------------------------------------------------------------

    async def prepare(self) -> Launch:
        self._end_run()
        self.probe = self._new_probe()
        self.remedies.incidents = {}
        self.refused = None
        self.login.new_run(keep_wait=self.last_exit == 87)  # IBC gave up on the login
        self.java_exit = None
        if self.remedies.escalated is not None:
            self._emit("tws_remedy", action="cold_start", reason=self.remedies.escalated,
                       ok=True)
            self.remedies.escalated = None
        # ib_async is heavy (seconds on a loaded machine): imported before the spawn, in a
        # thread, so the first probe does not spend the readiness deadline on it
        await asyncio.to_thread(importlib.import_module, "ib_async")
        try:
            self.outages.load(self.runner.host.config.source)
            launch = self.launch.prepare()
        except (ConfigProblem, IniError) as exc:
            self.refused = str(exc)  # retrying cannot fix a configuration problem
            raise ValueError(str(exc)) from None
        if not self.simulated:
            self.ini_written = True
            self.ibc_version = self.launch.version
            self._emit("tws_ini_written", path=self.launch.ini_path, mode="0600",
                       tws_settings_path=self.launch.paths()[2], ibc_version=self.ibc_version)
        return launch

    async def hold_reason(self) -> str | None:
        """Wait out an IB platform-wide outage before starting (never in simulated mode)."""
        config = self.runner.host.config
        if self.simulated or not config.get("checks.ib_status.gate", True):
            return None
        from traderctl.ibstatus.gate import platform_hold_reason

        return await asyncio.to_thread(platform_hold_reason, config)

    # ---- IBC's output --------------------------------------------------------------------

    def on_output(self, stream: str, line: str) -> None:
        if self.simulated:
            return
        found = classify(line)
        self.login.feed(found, line)
        if found is not None:
            self._on_ibc_line(found)
        self._refresh()

    def _on_ibc_line(self, line: IbcLine) -> None:
        spec = self.spec
        if line.kind in ("autorestart_found", "session_restart"):
            # the script finds TWS's autorestart file right after TWS exits; the new
            # session starts after its pause
            self.outages.ibc_restarting("IBC restart (no second factor)",
                                        spec["restart_timeout"] + spec["auto_restart_outage"])
            if line.kind == "session_restart":
                self._emit("tws_ibc_restart", kind="warm", line=line.text)
        elif line.kind == "cold_restart_soon":
            self.outages.ibc_restarting("IBC cold restart (full login)", spec["startup_timeout"])
            self._emit("tws_ibc_restart", kind="cold", line=line.text)
        elif line.kind == "ibc_exit" and (code := line.number()) is not None:
            self.java_exit = code
            self._emit("tws_ibc_returned", exit_code=code,
                       meaning=EXIT_CODES.get(code) or RETURNED_ONLY.get(code))
        elif line.kind == "cold_restart_at":
            self.outages.cold_restart_at = line.fields["at"]
        elif line.kind == "ibc_version":
            self.ibc_version = line.fields["version"]

    def waiting_on(self) -> str | None:
        if self.give_up() is not None:
            return None
        if self.login.waiting():
            return self.login.detail()
        return self.outages.announced()

    def give_up(self) -> str | None:
        return self.refused or self.login.give_up()

    # ---- probes --------------------------------------------------------------------------

    def readiness(self) -> ProbeSettings:
        return ProbeSettings(self._probe, self.spec["startup_timeout"],
                             min(self.spec["probe_interval"], 1.0))

    def liveness(self) -> ProbeSettings:
        spec = self.spec
        # the runner's bound is a backstop: the probe has its own timeout and better words
        return ProbeSettings(self._probe, spec["probe_timeout"] + 1.0, spec["probe_interval"],
                             spec["probe_failures"], fixed_rate=True)

    async def _probe(self) -> ProbeResult:
        result = await self.probe.check()
        if result.ok:
            self.login.api_accepting()
            self.outages.api_back()
        elif self.probe.kind == "refused":
            self.login.api_refused()
        if self.runner.state == "starting":
            self._refresh()
        return result

    def observed(self, result: ProbeResult, failures: int) -> None:
        if result.ok:
            self._refresh()
            return
        if self.waiting_on() is not None:
            self.runner.set_detail(f"{self._detail()}; {result.detail}")
            return
        self.runner.set_detail(f"{result.detail} ({failures}/{self.spec['probe_failures']})")

    def starting_detail(self) -> str:
        return self._detail()

    def running_detail(self) -> str:
        return self._detail()

    def _detail(self) -> str:
        return session_detail(self.login, self.outages, self.observer)

    # ---- while running -------------------------------------------------------------------

    def running_task(self) -> Awaitable[str]:
        return self._observe()

    async def _observe(self) -> str:
        spec = self.spec
        observer = self.observer = SessionObserver(
            HOST, self.launch.port, spec["observer_client_id"], spec["probe_timeout"],
            spec["probe_interval"], self._on_session_change)
        loops = [asyncio.ensure_future(self._guard("observer", observer.run)),
                 asyncio.ensure_future(self._guard("soft_remedies",
                                                   lambda: self.remedies.soft_loop(observer)))]
        try:
            await asyncio.wait(loops)  # not a TaskGroup: it cancels its tasks only once
        finally:
            await cancel_and_wait(loops)
            observer.close()
            self.probe.close()
        return "observer ended"  # not reached: both loops run until cancelled

    async def _guard(self, what: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Keep a loop alive: a bug in it is logged, never fatal to the service."""
        while True:
            try:
                await loop()
            except Exception as exc:
                log.error("tws_task_failed", service=self.name, task=what,
                          error=f"{type(exc).__name__}: {exc}", exc_info=exc)
            await asyncio.sleep(max(1.0, self.spec["probe_interval"]))

    def _on_session_change(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "farm":
            self._emit("tws_farm", **fields)
        elif kind == "connectivity":
            self._emit("tws_connectivity", **fields)
        elif kind == "timezone" and self.observer is not None:
            self.outages.timezone = self.observer.timezone
            self._emit("tws_timezone", **fields)
        self._refresh()

    async def remedy(self, result: ProbeResult, failures: int) -> bool:
        return await self.remedies.hung_api(result, self._probe, bool(self.spec["gateway"]))

    # ---- the end of a run ----------------------------------------------------------------

    async def before_stop(self, child: Child) -> None:
        """IBC's STOP first (a tidy TWS shutdown); signals follow if it does not exit."""
        self._end_run()
        port = self.launch.command_port
        if not port or child.exited.done() or self.login.failed is not None:
            return  # after a failed login IBC is already stopping: the signal ends its loop
        grace = self.spec["stop_grace"]
        try:
            reply = await send_command(port, "STOP", within=min(5.0, grace or 1.0))
        except CommandServerError as exc:
            log.info("tws_stop_command_failed", service=self.name, error=str(exc))
            return
        if not reply.ok:
            return
        try:
            await asyncio.wait_for(asyncio.shield(child.exited), grace)
        except TimeoutError:
            if self.remedies.escalated is not None:
                self.remedies.record("terminate", f"IBC did not stop within {grace:g}s", True,
                                     "signalling the process group")

    def exit_detail(self, code: int) -> str | None:
        self._end_run()
        self.last_exit = code
        meaning = None if self.simulated else EXIT_CODES.get(code)
        if code < 76 and code == self.java_exit:
            meaning = None  # java's own code passed on, not one of the script's errors
        if meaning is None:
            return None
        self._emit("tws_ibc_exit", exit_code=code, meaning=meaning,
                   permanent=code in PERMANENT_EXIT_CODES)
        detail = f"exited with code {code}: IBC: {meaning}"
        if code in PERMANENT_EXIT_CODES:
            self.refused = f"{detail}; retrying cannot fix it"
        return detail

    def _end_run(self) -> None:
        self.probe.close()
        if self.observer is not None:
            self.observer.close()

    def status_fields(self) -> dict[str, Any]:
        return {"tws": status_fields(self)}
