"""TwsDriver: TWS / IB Gateway through IBC (or the simulator) as a session-aware service.

What the runner asks and what this driver answers:

* **prepare**: render IBC's ``config.ini`` (0600, atomic, every start) and
  build ``ibcstart.sh``'s real argv; credentials go into the ini only, never
  argv, never the child's environment. ``mode: simulated`` spawns the
  simulator instead; from there on the code path is the same.
* **readiness / liveness**: :class:`traderctl.tws.session.ApiProbe`
  (``reqCurrentTime`` on a reserved client id). Liveness probes start every
  ``probe_interval`` (fixed rate), and the runner acts after
  ``probe_failures`` in a row: a hung API is detected within
  ``probe_interval x probe_failures + probe_timeout``.
* **while running**: :class:`traderctl.tws.session.SessionObserver` tracks
  data farms, IB connectivity and the TWS time zone; a farm broken for
  ``farm_grace`` gets IBC's ``RECONNECTDATA``, lost connectivity
  ``RECONNECTACCOUNT`` (at most ``soft_attempts`` per incident, backing off).
* **second factor**: IBC's output says when it waits for the phone. Until the
  login completes the readiness deadline stands still, liveness failures are
  not counted (no restart, no backoff) and ``tws_second_factor_pending`` is
  emitted per prompt; after ``second_factor_limit`` the service gives up
  (state ``failed``, until an operator starts it).
* **remedy** for a hung API, softest first: wait if inside an expected outage
  (IB reset window, the daily auto-restart); IBC ``RESTART`` (warm, no second
  factor) and wait ``restart_timeout`` for the API; then the run ends:
  ``before_stop`` sends IBC ``STOP`` and waits ``stop_grace``, the runner then
  signals (TERM, then KILL after ``stop.timeout``), and the next start is a
  cold one (full login). A RESTART is tried at most once per
  ``warm_restart_every``.
* **exit codes**: IBC's 87 (second factor timed out), 88 (login dialog timed
  out) and its script errors are named in the detail and in ``tws_ibc_exit``.

Events (``sup.emit``): ``tws_ini_written``, ``tws_second_factor_pending``,
``tws_second_factor_completed``, ``tws_second_factor_abandoned``,
``tws_remedy`` (action RECONNECTDATA | RECONNECTACCOUNT | RESTART | STOP |
terminate | cold_start), ``tws_action_suppressed``, ``tws_farm``,
``tws_connectivity``, ``tws_timezone``, ``tws_ibc_exit``. None carries a
credential.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from traderctl.events import Event, utcnow
from traderctl.logs import add_secrets, get_logger
from traderctl.services.driver import Driver, Launch, ProbeSettings
from traderctl.services.environment import child_environment
from traderctl.services.probes import ProbeResult
from traderctl.tws import windows as reset
from traderctl.tws.commandserver import CommandServerError, Reply, send_command
from traderctl.tws.ini import IniError, default_template, render_file
from traderctl.tws.servicetype import DEFAULT_IBC_PATH, DEFAULT_TWS_PATH, api_port, ibc_ampm
from traderctl.tws.session import ApiProbe, SessionObserver, classify_ibc_line
from traderctl.tws.tz import TwsTimeZone

if TYPE_CHECKING:
    from traderctl.services.process import Child
    from traderctl.services.runner import ServiceRunner

log = get_logger(__name__)

HOST = "127.0.0.1"
IBC_EXIT_CODES = {
    2: "IBC: TWS major version not given",
    3: "IBC: invalid argument",
    4: "IBC: this TWS version is not installed",
    5: "IBC: IBC path or TWS settings path does not exist",
    6: "IBC: config.ini does not exist",
    7: "IBC: TWS vmoptions file not found",
    8: "IBC: unknown operating system",
    87: "IBC: second-factor authentication timed out",
    88: "IBC: login dialog display timed out",
}
LOGIN, SECOND_FACTOR, ACCEPTING = "login", "second factor pending", "api accepting"


class ConfigProblem(ValueError):
    """The service cannot be started as configured (the message names no secret)."""


@dataclass
class Incident:
    """A farm or connectivity problem and the soft remedies tried on it."""

    attempts: int = 0
    next_at: float = 0.0
    suppressed: bool = False
    reported: bool = False


class TwsDriver(Driver):
    def __init__(self, runner: ServiceRunner) -> None:
        super().__init__(runner)
        spec = self.spec
        self.name = runner.name
        self.mode: str = spec["mode"]
        self.simulated = self.mode == "simulated"
        self.port = api_port(spec)
        self.command_port: int = 0 if self.simulated else int(spec["command_server_port"] or 0)
        self.runtime_dir = os.path.join(runner.sup.data_dir, "services", self.name)
        self.ini_path = os.path.join(self.runtime_dir, "config.ini")
        self.ini_written = False
        self.windows: list[reset.ResetWindow] = []
        self.timezone: TwsTimeZone | None = None
        self.phase = LOGIN
        self.probe = self._new_probe()
        self.observer: SessionObserver | None = None
        self.incidents: dict[str, Incident] = {}
        self.gave_up: str | None = None
        self.second_factor_since: float | None = None
        self.second_factor_at: str | None = None
        self.second_factor_prompts = 0
        self.last_exit: int | None = None
        self.last_warm_restart: float | None = None
        self.last_remedy: dict[str, Any] | None = None
        self.escalated: str | None = None

    # ---- helpers -------------------------------------------------------------------------

    def _new_probe(self) -> ApiProbe:
        return ApiProbe(HOST, self.port, self.spec["probe_client_id"], self.spec["probe_timeout"])

    def _emit(self, name: str, **fields: Any) -> None:
        self.runner.sup.emit(Event(name, {"service": self.name, **fields}))

    def _refresh(self) -> None:
        """Show the session in the detail while running or starting (not over remedy texts)."""
        if self.runner.state in ("running", "starting"):
            self.runner.set_detail(self._detail())

    # ---- launch --------------------------------------------------------------------------

    async def prepare(self) -> Launch:
        self._end_run()
        self.phase = LOGIN
        self.probe = self._new_probe()
        self.incidents = {}
        self.gave_up = None
        if self.last_exit != 87:  # a second-factor timeout keeps the clock of the wait running
            self.second_factor_since = self.second_factor_at = None
            self.second_factor_prompts = 0
        if self.escalated is not None:
            self._emit("tws_remedy", action="cold_start", reason=self.escalated, ok=True)
            self.escalated = None
        try:
            self.windows = self._load_windows()
            env = child_environment(self.spec["env"])
            if self.spec["display"]:
                env["DISPLAY"] = self.spec["display"]
            os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
            if self.simulated:
                return Launch(self._simulator_argv(), env, self.runtime_dir)
            password = self._password()
            self._write_ini(password)
            # the password reaches IBC only through the 0600 ini: not inherited either
            if self.spec["password_env"]:
                env.pop(self.spec["password_env"], None)
            env = {k: v for k, v in env.items() if v != password}
            return Launch(self._ibc_argv(), env, self.runtime_dir)
        except (ConfigProblem, IniError) as exc:
            self.gave_up = str(exc)  # retrying cannot fix a configuration problem
            raise ValueError(str(exc)) from None

    def _simulator_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "traderctl.simulator", "--host", HOST,
                "--port", str(self.port)]
        if self.spec["sim_scenario"]:
            argv += ["--scenario", self.spec["sim_scenario"]]
        if self.spec["sim_control_port"] is not None:
            argv += ["--control-port", str(self.spec["sim_control_port"])]
        if self.spec["sim_timezone"]:
            argv += ["--timezone", self.spec["sim_timezone"]]
        return argv

    def _paths(self) -> tuple[str, str, str]:
        ibc = self.spec["ibc_path"] or DEFAULT_IBC_PATH
        tws = self.spec["tws_path"] or os.path.expanduser(DEFAULT_TWS_PATH)
        return ibc, tws, self.spec["tws_settings_path"] or tws

    def _ibc_argv(self) -> list[str]:
        """``ibcstart.sh`` with IBC's real arguments; ``--user``/``--pw`` are never used."""
        spec = self.spec
        if not spec["tws_version"]:
            raise ConfigProblem(f"tws_version is required for mode {self.mode}")
        ibc, tws, settings = self._paths()
        argv = [os.path.join(ibc, "scripts", "ibcstart.sh"), spec["tws_version"]]
        if spec["gateway"]:
            argv.append("--gateway")
        argv += [f"--tws-path={tws}", f"--tws-settings-path={settings}", f"--ibc-path={ibc}",
                 f"--ibc-ini={self.ini_path}", f"--mode={self.mode}",
                 f"--on2fatimeout={spec['on_2fa_timeout']}"]
        if spec["java_path"]:
            argv.append(f"--java-path={spec['java_path']}")
        return argv

    def _password(self) -> str:
        spec = self.spec
        given = [k for k in ("password", "password_file", "password_env") if spec[k]]
        if len(given) > 1:
            raise ConfigProblem(f"set only one of {', '.join(given)}")
        if not spec["username"]:
            raise ConfigProblem(f"username is required for mode {self.mode}")
        if not given:
            raise ConfigProblem("no password: set password_file, password_env or password")
        if spec["password"]:
            value = spec["password"]
        elif spec["password_file"]:
            value = read_password_file(spec["password_file"])
        else:
            value = os.environ.get(spec["password_env"], "")
            if not value:
                raise ConfigProblem(f"environment variable {spec['password_env']} "
                                    "(password_env) is not set or empty")
        add_secrets([value, spec["username"]])
        return value

    def _write_ini(self, password: str) -> None:
        spec = self.spec
        read_only = spec["read_only_api"]
        values = {
            "service": self.name,
            "IbLoginId": spec["username"],
            "IbPassword": password,
            "SecondFactorDevice": spec["two_factor_device"] or "",
            "TradingMode": self.mode,
            "AcceptNonBrokerageAccountWarning": "yes" if self.mode == "paper" else "no",
            "ExistingSessionDetectedAction": spec["existing_session"],
            "OverrideTwsApiPort": str(self.port),
            "ReadOnlyApi": "" if read_only is None else ("yes" if read_only else "no"),
            "AutoRestartTime": ibc_ampm(spec["auto_restart_time"]) if spec["auto_restart_time"]
            else "",
            "ColdRestartTime": spec["cold_restart_time"] or "",
            "CommandServerPort": str(self.command_port),
        }
        render_file(spec["ibc_ini_template"] or default_template(), values, self.ini_path)
        self.ini_written = True
        self._emit("tws_ini_written", path=self.ini_path, mode="0600")

    def _load_windows(self) -> list[reset.ResetWindow]:
        return reset.for_regions(self._all_windows(), self.spec["reset_regions"])

    def _all_windows(self) -> list[reset.ResetWindow]:
        inline = self.spec["reset_windows"]
        if inline is not None:
            try:
                return reset.parse_windows(inline)
            except ValueError as exc:
                raise ConfigProblem(f"reset_windows: {exc}") from None
        path = self.spec["reset_windows_file"] or reset.default_windows_file(
            self.runner.sup.config.source)
        if path is None:
            log.warning("tws_reset_windows_missing", service=self.name,
                        hint="no reset-windows.yaml found; failures are acted on at any time")
            return []
        try:
            return reset.load_windows_file(path)
        except ValueError as exc:
            raise ConfigProblem(str(exc)) from None

    async def hold_reason(self) -> str | None:
        """Wait out an IB platform-wide outage before starting (never in simulated mode)."""
        config = self.runner.sup.config
        if self.simulated or not config.get("checks.ib_status.gate", True):
            return None
        from traderctl.ibstatus.gate import platform_hold_reason

        return await asyncio.to_thread(platform_hold_reason, config)

    # ---- IBC's output: login and second factor ------------------------------------------

    def on_output(self, stream: str, line: str) -> None:
        if self.simulated:
            return
        kind = classify_ibc_line(line)
        if kind == "second_factor_pending":
            self._second_factor_pending()
        elif kind == "second_factor_timeout" and self.second_factor_since is not None:
            self.runner.set_detail(f"{SECOND_FACTOR} (prompt timed out, IBC asks again)")
        elif kind in ("second_factor_done", "logged_in"):
            self._second_factor_done("login completed")
            if self.phase != ACCEPTING:
                self.phase = LOGIN
                self._refresh()
        elif kind == "login" and self.phase == ACCEPTING:
            self.phase = LOGIN  # IBC restarts TWS (daily auto-restart, RESTART)
            self._refresh()

    def _second_factor_pending(self) -> None:
        now = time.monotonic()
        if self.second_factor_since is None:
            self.second_factor_since = now
            self.second_factor_at = utcnow().isoformat()
        self.second_factor_prompts += 1
        self.phase = SECOND_FACTOR
        self._emit("tws_second_factor_pending", device=self.spec["two_factor_device"],
                   since=self.second_factor_at, prompt=self.second_factor_prompts,
                   limit=self.spec["second_factor_limit"])
        self.runner.set_detail(self._detail())

    def _second_factor_done(self, how: str) -> None:
        if self.second_factor_since is None:
            return
        waited = time.monotonic() - self.second_factor_since
        self.second_factor_since = self.second_factor_at = None
        self.second_factor_prompts = 0
        self._emit("tws_second_factor_completed", waited=round(waited, 1), how=how)

    def _second_factor_expired(self) -> bool:
        since = self.second_factor_since
        if since is None or self.gave_up is not None:
            return self.gave_up is not None
        limit = self.spec["second_factor_limit"]
        waited = time.monotonic() - since
        if waited <= limit:
            return False
        self.gave_up = f"second factor not approved within {limit:g}s"
        self._emit("tws_second_factor_abandoned", waited=round(waited, 1), limit=limit)
        return True

    def waiting_on(self) -> str | None:
        if self.second_factor_since is None or self._second_factor_expired():
            return None
        return SECOND_FACTOR

    def give_up(self) -> str | None:
        self._second_factor_expired()
        return self.gave_up

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
            self._api_accepting()
        elif self.phase == ACCEPTING and self.probe.kind == "refused":
            self.phase = LOGIN
        if self.runner.state == "starting":
            self._refresh()
        return result

    def _api_accepting(self) -> None:
        if self.phase != ACCEPTING:
            self._second_factor_done("api accepting")
            self.phase = ACCEPTING

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
        if self.phase == SECOND_FACTOR:
            device = self.spec["two_factor_device"]
            return SECOND_FACTOR + (f" on {device}" if device else "")
        if self.phase == LOGIN:
            return LOGIN
        parts = [ACCEPTING]
        obs = self.observer
        if obs is not None and obs.connected:
            broken = obs.broken_farms()
            parts.append("data farm " + ", ".join(f.name for f in broken) + " broken"
                         if broken else "data farms ok")
            if not obs.connectivity.ok:
                parts.append(f"IB connectivity lost ({obs.connectivity.code})")
        outage = self._expected_outage()
        if outage is not None:
            parts.append(f"in {outage.describe()}")
        return "; ".join(parts)

    # ---- expected outages ---------------------------------------------------------------

    def _expected_outage(self) -> reset.ActiveWindow | None:
        return reset.active_window([*self.windows, *self._restart_windows()], utcnow())

    def _restart_windows(self) -> list[reset.ResetWindow]:
        spec = self.spec
        length = timedelta(seconds=spec["auto_restart_outage"])
        if self.simulated or length <= timedelta(0):
            return []
        found = []
        if spec["auto_restart_time"]:
            zone = self._tws_zone_name()
            found.append(reset.daily_window("daily auto-restart",
                                            reset.parse_time(spec["auto_restart_time"], "time"),
                                            length, zone))
        if spec["cold_restart_time"]:
            found.append(reset.daily_window("Sunday cold restart",
                                            reset.parse_time(spec["cold_restart_time"], "time"),
                                            length, local_zone_name(), days=[6]))
        return found

    def _tws_zone_name(self) -> str:
        tz = self.timezone
        if tz is not None and tz.source != "offset":
            return tz.name
        return local_zone_name()

    # ---- while running: observer and soft remedies ----------------------------------------

    def running_task(self) -> Awaitable[str]:
        return self._observe()

    async def _observe(self) -> str:
        spec = self.spec
        self.observer = SessionObserver(HOST, self.port, spec["observer_client_id"],
                                        spec["probe_timeout"], spec["probe_interval"],
                                        self._on_session_change)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._guard("observer", self.observer.run))
                group.create_task(self._guard("soft_remedies", self._soft_remedies))
        finally:
            self.observer.close()
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
            self.timezone = self.observer.timezone
            self._emit("tws_timezone", **fields)
        self._refresh()

    async def _soft_remedies(self) -> None:
        spec = self.spec
        tick = min(spec["farm_grace"] / 2, spec["probe_interval"])
        while True:
            await asyncio.sleep(tick)
            obs = self.observer
            if obs is None or not obs.connected:
                continue
            broken = obs.broken_farms()
            await self._soft_step(
                "farm", min((f.since for f in broken), default=None), "RECONNECTDATA",
                "data farm " + ", ".join(f.name for f in broken) + " broken")
            lost = obs.connectivity
            await self._soft_step("connectivity", None if lost.ok else lost.since,
                                  "RECONNECTACCOUNT",
                                  f"IB connectivity lost ({lost.code}: {lost.text})")

    async def _soft_step(self, key: str, since: float | None, command: str, why: str) -> None:
        spec = self.spec
        incident = self.incidents.get(key)
        if since is None:
            self.incidents.pop(key, None)
            return
        if incident is None:
            incident = self.incidents[key] = Incident(next_at=since + spec["farm_grace"])
        now = time.monotonic()
        if now < incident.next_at or incident.attempts >= spec["soft_attempts"]:
            return
        if self.waiting_on() is not None:
            return
        outage = self._expected_outage()
        if outage is not None:
            if not incident.suppressed:
                incident.suppressed = True
                self._suppressed(command, why, outage)
            return
        if not self.command_port:
            if not incident.reported:
                incident.reported = True
                log.warning("tws_no_soft_remedy", service=self.name, problem=why,
                            hint="no IBC command server (simulated mode or "
                                 "command_server_port: 0)")
            return
        incident.attempts += 1
        incident.next_at = now + spec["farm_grace"] * 2 ** incident.attempts
        await self._ibc(command, why)

    def _suppressed(self, action: str, why: str, outage: reset.ActiveWindow) -> None:
        self._emit("tws_action_suppressed", action=action, reason=why,
                   window=outage.window.name, until=outage.until.isoformat())

    async def _ibc(self, command: str, reason: str) -> Reply | None:
        """Send one IBC command and record it as a remedy (event ``tws_remedy``)."""
        try:
            reply = await send_command(self.command_port, command,
                                       within=min(5.0, max(1.0, self.spec["probe_timeout"])))
        except CommandServerError as exc:
            self._remedy(command, reason, False, str(exc))
            return None
        self._remedy(command, reason, reply.ok, str(reply))
        return reply

    def _remedy(self, action: str, reason: str, ok: bool, reply: str = "") -> None:
        self.last_remedy = {"action": action, "reason": reason, "ok": ok, "reply": reply,
                            "at": utcnow().isoformat()}
        self._emit("tws_remedy", action=action, reason=reason, ok=ok, reply=reply)

    # ---- a hung API: the escalation ladder ------------------------------------------------

    async def remedy(self, result: ProbeResult, failures: int) -> bool:
        reason = result.detail
        if await self._wait_out_outage(reason):
            return True
        if self.command_port and not self._warm_restart_recent():
            self.last_warm_restart = time.monotonic()
            reply = await self._ibc("RESTART", reason)
            if reply is not None and reply.ok:
                timeout = self.spec["restart_timeout"]
                self.runner.set_detail(f"{reason}; warm RESTART sent, waiting up to "
                                       f"{timeout:g}s for the API")
                if await self._wait_for_api(timeout):
                    return True
                reason = f"API still not answering {timeout:g}s after a warm RESTART"
        self.escalated = reason
        self._remedy("STOP", reason, True, "stopping TWS; the next start is a cold one")
        return False

    def _warm_restart_recent(self) -> bool:
        last = self.last_warm_restart
        return last is not None and time.monotonic() - last < self.spec["warm_restart_every"]

    async def _wait_out_outage(self, reason: str) -> bool:
        """Inside an expected outage: report, probe on, act only if it ends still failing."""
        outage = self._expected_outage()
        if outage is None:
            return False
        self._suppressed("RESTART", reason, outage)
        while outage is not None:
            self.runner.set_detail(f"{reason}; in {outage.describe()}: not acting")
            await asyncio.sleep(self.spec["probe_interval"])
            result = await self._probe()
            if result.ok:
                return True
            reason = result.detail
            outage = self._expected_outage()
        return False

    async def _wait_for_api(self, within: float) -> bool:
        """Probe until the API answers; time spent waiting on a second factor is not counted."""
        deadline = time.monotonic() + within
        mark = time.monotonic()
        while True:
            now = time.monotonic()
            if self.waiting_on() is not None:
                deadline += now - mark
            mark = now
            if now >= deadline or self.give_up() is not None:
                return False
            await asyncio.sleep(self.spec["probe_interval"])
            if (await self._probe()).ok:
                return True

    async def before_stop(self, child: Child) -> None:
        """IBC's STOP first (a tidy TWS shutdown); signals follow if it does not exit."""
        self._end_run()
        if not self.command_port or child.exited.done():
            return
        grace = self.spec["stop_grace"]
        try:
            reply = await send_command(self.command_port, "STOP", within=min(5.0, grace or 1.0))
        except CommandServerError as exc:
            log.info("tws_stop_command_failed", service=self.name, error=str(exc))
            return
        if not reply.ok:
            return
        try:
            await asyncio.wait_for(asyncio.shield(child.exited), grace)
        except TimeoutError:
            if self.escalated is not None:
                self._remedy("terminate", f"IBC did not stop within {grace:g}s", True,
                             "signalling the process group")

    def exit_detail(self, code: int) -> str | None:
        self._end_run()
        self.last_exit = code
        meaning = None if self.simulated else IBC_EXIT_CODES.get(code)
        if meaning is None:
            return None
        self._emit("tws_ibc_exit", exit_code=code, meaning=meaning)
        return f"exited with code {code}: {meaning}"

    def _end_run(self) -> None:
        self.probe.close()
        if self.observer is not None:
            self.observer.close()

    # ---- status --------------------------------------------------------------------------

    def status_fields(self) -> dict[str, Any]:
        obs = self.observer
        connected = obs is not None and obs.connected
        outage = self._expected_outage()
        tz = self.timezone.to_json() if self.timezone else {
            "timezone": None, "utc_offset": None, "reported": None, "source": None}
        return {"tws": {
            "mode": self.mode, "gateway": bool(self.spec["gateway"]), "api_port": self.port,
            "command_server_port": self.command_port or None,
            "session": self.phase,
            "api": self.probe.kind,
            "farms": {f.name: "ok" if f.ok else "broken" for f in obs.farms.values()}
            if connected and obs else {},
            "connectivity": None if not connected or obs is None else
            ("ok" if obs.connectivity.ok else f"lost ({obs.connectivity.code})"),
            **tz,
            "server_version": obs.server_version if obs else None,
            "second_factor_pending_since": self.second_factor_at,
            "reset_window": outage.window.name if outage else None,
            "ini": self.ini_path if self.ini_written else None,
            "last_remedy": self.last_remedy,
        }}


def read_password_file(path: str) -> str:
    """The first line of a file only its owner can read; ConfigProblem otherwise."""
    try:
        st = os.stat(path)
        if st.st_mode & 0o077:
            raise ConfigProblem(f"password_file {path} is accessible to group or others "
                                f"(mode {st.st_mode & 0o777:04o}); chmod 600 it")
        if st.st_uid != os.geteuid():
            raise ConfigProblem(f"password_file {path} is not owned by this user")
        with open(path, encoding="utf-8") as fh:
            value = fh.readline().rstrip("\r\n")
    except OSError as exc:
        raise ConfigProblem(f"cannot read password_file {path}: {exc.strerror}") from None
    if not value:
        raise ConfigProblem(f"password_file {path} is empty")
    return value


def local_zone_name() -> str:
    """This machine's IANA zone (from $TZ or /etc/localtime), UTC if unknown."""
    from zoneinfo import ZoneInfo

    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        target = os.path.realpath("/etc/localtime")
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError: any bad name
        return "UTC"
    return name
