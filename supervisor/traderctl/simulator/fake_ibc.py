"""Fake IBC launcher: ``ibc/fake/scripts/ibcstart.sh`` runs this module.

It takes the real ``ibcstart.sh`` arguments and ``config.ini``, refuses bad input
with IBC's exit codes (:mod:`.ibc_config`) and then plays IBC 3.24 with
TWS/Gateway behind it, printing what IBC prints (its Java side as ``yyyy-MM-dd
HH:mm:ss:SSS IBC: <text>``, its script plain):

* **the script loop** (``ibcstart.sh``): each "java" run ends with ``IBC returned
  exit status N``; then 88 (login dialog not shown) restarts, a cold-restart flag
  restarts cold (``IBC will cold-restart shortly``), an ``autorestart`` file in the
  TWS settings folder restarts warm (``Re-starting session``, no second factor; more
  than one such file: all deleted, a full login), 87 restarts only with
  ``--on2fatimeout=restart``, anything else ends the launcher with that code.
  SIGTERM/SIGINT reach "java", which exits 143, and so does the launcher.
* **the login** (``LoginManager``): ``Login attempt: N``, then optionally a second
  factor (``Second Factor Authentication initiated`` once per prompt, the dialog's
  events repeating; ``method: card`` is the Security Code Card). Approved: ``If login
  has not completed, IBC will exit in N seconds`` and ``Login has completed`` (or,
  with ``login_stalls``, exit 87 after that interval). Unanswered for
  ``second_factor_timeout``: ``Re-login after second factor authentication timeout in
  5 second`` and a new login, or ``... not required`` and TWS waits. Never exit 87
  for an unanswered prompt.
* **login failures** (``LoginFailedDialogHandler``, ``LoginErrorDialogHandler``,
  ``TooManyFailedLoginAttemptsDialogHandler``): ``login_failure: {kind: failed |
  error | locked, times: N}``; failed and error cold-restart through the script loop,
  over and over, as real IBC does with a wrong password.
* **restarts**: the command server's RESTART restarts TWS at once; IB Gateway at the
  next minute (the one after from second 58 on; ``restart_at_most`` shortens the
  wait for tests), answering ``OK RESTART at hh:mm AM``. ``auto_restart_after`` plays
  the daily auto-restart, ``cold_restart_after`` the Sunday ``ColdRestartTime``.

Scenario: ``$FAKE_IBC_SCENARIO`` or ``fake-ibc.{json,yaml,yml}`` next to the ini;
simulator keys as in :mod:`.scenario` plus an ``ibc:`` section (keys: the fields of
:class:`.ibc_config.IbcPlan`). Approve a pending second factor by creating the
approve file (removed when a prompt opens) or with ``APPROVE`` on the simulator
control port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from ._log import get_logger
from .ibc_command import CommandServer
from .ibc_config import (
    E_2FA_DIALOG_TIMED_OUT,
    E_LOGIN_DIALOG_DISPLAY_TIMEOUT,
    E_SIGTERM,
    USAGE,
    IbcIni,
    IbcPlan,
    LaunchArgs,
    LaunchError,
    api_port,
    parse_args,
    trading_mode,
    validate,
)
from .ibc_login import Halted, LoginPlay, ibc, ibc_error, local_now, say
from .scenario import Scenario, load_raw
from .server import SimConfig, SimTWS

log = get_logger(__name__)

def find_scenario(ini_path: Path) -> Path | None:
    env = os.environ.get("FAKE_IBC_SCENARIO")
    if env:
        return Path(env)
    for name in ("fake-ibc.json", "fake-ibc.yaml", "fake-ibc.yml"):
        candidate = ini_path.parent / name
        if candidate.exists():
            return candidate
    return None


class FakeIbc:
    """One launcher run: the ibcstart.sh loop around fake "java" runs."""

    def __init__(self, args: LaunchArgs, ini: IbcIni, ini_path: Path,
                 raw_scenario: dict[str, Any]) -> None:
        self.args, self.ini = args, ini
        self.plan = IbcPlan.build(dict(raw_scenario.get("ibc") or {}), ini, ini_path)
        self.port = api_port(args, ini)
        self.sim = SimTWS(SimConfig(host=self.plan.api_host, port=self.port,
                                    scenario=Scenario.from_dict(raw_scenario),
                                    control_port=self.plan.control_port))
        self.sim.faults.offline = True
        self.program = "Gateway" if args.gateway else "TWS"
        self.settings = Path(args.tws_settings_path or args.tws_path or ini_path.parent)
        self.terminated = asyncio.Event()
        self.exit_now = asyncio.Event()     # STOP, or TWS closing itself
        self.restart_at: float | None = None  # monotonic time of a requested restart
        self.logged_in = False
        self.cold_flag = False
        self.runs = 0
        self.failures = 0
        self.dialog_timeouts = 0
        self.commands = CommandServer(self, ini)
        self.login = LoginPlay(self)

    async def run(self) -> int:
        await self.sim.start()
        await self.commands.start()
        try:
            return await self._script()
        finally:
            await self.commands.stop()
            await self.sim.stop()

    # ---- ibcstart.sh -------------------------------------------------------------------

    async def _script(self) -> int:
        say("=" * 80)
        say(f"Starting IBC version {os.environ.get('IBC_VRSN', '')} on "
            f"{local_now():%Y-%m-%d} at {local_now():%H:%M:%S}")
        say(f"TWS version = {self.args.tws_version}")
        say(f"Trading mode = {trading_mode(self.args, self.ini)}; API port {self.port}")
        warm = self._find_autorestart()
        while True:
            say(f"Starting {self.program} with this command:")
            try:
                code = await self._java(warm)
            except Halted:
                code = E_SIGTERM
            say(f"IBC returned exit status {code}")
            if code == E_LOGIN_DIALOG_DISPLAY_TIMEOUT:
                warm = False
            elif self.cold_flag:
                self.cold_flag, warm = False, False
                say("IBC will cold-restart shortly")
            else:
                warm = self._find_autorestart()
                if not warm and (code != E_2FA_DIALOG_TIMED_OUT
                                 or self.args.on2fatimeout.upper() != "RESTART"):
                    break
            say("IBC will restart shortly")
            say("sleep 2")
            if await self._pause(self.plan.script_restart_delay):
                code = E_SIGTERM  # bash itself dies of the TERM between runs
                break
        say(f"{self.program} finished")
        return code

    def _find_autorestart(self) -> bool:
        say("Finding autorestart file")
        found = sorted(self.settings.glob("*/autorestart"))
        if len(found) == 1:
            say(f"autorestart file found at {found[0]}: authentication will not be required")
            found[0].unlink()  # TWS consumes it on the restart
            return True
        for extra in found:
            extra.unlink()
        if found:
            say("WARNING: More than one autorestart file was found. IBC can't determine which "
                "is the right one, so they've all been deleted. Full authentication will be "
                "required.")
        else:
            say("autorestart file not found: full authentication will be required")
        return False

    async def _pause(self, seconds: float) -> bool:
        """Sleep; True if SIGTERM came meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.terminated.wait(), seconds)
        return self.terminated.is_set()

    # ---- one "java" run ---------------------------------------------------------------

    async def _java(self, warm: bool) -> int:
        self.runs += 1
        self.logged_in = False
        self.exit_now.clear()
        self.restart_at = None
        await self.sim.set_offline(True)
        if warm:
            ibc("Re-starting session")
        else:
            ibc("Starting session: will exit if login dialog is not displayed within "
                f"{self.plan.login_dialog_timeout_seconds:g} seconds")
        self._announce_cold_restart()
        if not warm and self.dialog_timeouts < self.plan.login_dialog_timeouts:
            self.dialog_timeouts += 1
            await self.sleep(self.plan.login_dialog_timeout_seconds)
            ibc_error("IBC closing after TWS/Gateway failed to display login dialog")
            ibc(f"Exiting after error with exit code={E_LOGIN_DIALOG_DISPLAY_TIMEOUT + 1024}")
            return E_LOGIN_DIALOG_DISPLAY_TIMEOUT
        code = await (self.sleep(self.plan.restart_seconds) if warm else self.login.run())
        if code is not None:
            return code
        await self.sim.set_offline(False)
        self.logged_in = True
        ibc("Login has completed")
        log.info("fake_ibc_logged_in", port=self.port, warm=warm)
        return await self._serve()

    def _announce_cold_restart(self) -> None:
        after = self.plan.cold_restart_after
        if after is None or self.runs > 1:
            return
        at = local_now() + timedelta(seconds=after)
        ibc(f"{self.program} will be cold restarted at {at:%Y/%m/%d %H:%M}")

    async def sleep(self, seconds: float) -> None:
        """Sleep inside "java": SIGTERM raises Halted, a STOP ends the wait early."""
        stop = asyncio.ensure_future(self.exit_now.wait())
        term = asyncio.ensure_future(self.terminated.wait())
        try:
            await asyncio.wait([stop, term], timeout=seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (stop, term):
                fut.cancel()
            await asyncio.gather(stop, term, return_exceptions=True)
        if self.terminated.is_set():
            raise Halted

    # ---- logged in --------------------------------------------------------------------

    async def _serve(self) -> int:
        crash = self.plan.exit_after if self.runs == 1 else None
        first = self.runs == 1
        timers: dict[str, float] = {}
        if crash:
            timers["crash"] = float(crash.get("seconds", 0))
        if self.plan.auto_restart_after is not None and first:
            timers["auto_restart"] = self.plan.auto_restart_after
        if self.plan.cold_restart_after is not None and first:
            timers["cold_restart"] = self.plan.cold_restart_after
        started = time.monotonic()
        while not self.exit_now.is_set():
            now = time.monotonic()
            due = [name for name, after in timers.items() if now - started >= after]
            if self.restart_at is not None and now >= self.restart_at:
                due.append("restart")
            if due:
                return await self._leave(due[0], crash)
            await self.sleep(0.05)
        return await self._leave("stop", crash)

    async def _leave(self, why: str, crash: dict[str, Any] | None) -> int:
        await self.sim.drop_connections()
        await self.sim.set_offline(True)
        self.logged_in = False
        if why == "crash" and crash:
            return int(crash.get("code", 1))
        if why in ("restart", "auto_restart"):
            self._write_autorestart()  # TWS leaves it for the script to find
            return 0
        menu = "[File, Close]" if self.args.gateway else "[File, Exit]"
        ibc(f"Login has completed: exiting via {menu} menu")
        if why == "cold_restart":
            self.cold_flag = True
        return 0

    def _write_autorestart(self) -> None:
        folder = self.settings / "fakeuser"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "autorestart").touch()

    # ---- what the command server asks ---------------------------------------------------

    def request_stop(self) -> None:
        self.exit_now.set()

    def request_restart(self) -> str | None:
        """TWS restarts now; the Gateway at the next minute: returns that time, hh:mm AM."""
        if not self.args.gateway:
            self.restart_at = time.monotonic()
            return None
        now = local_now()
        if now.second >= 58:
            now += timedelta(seconds=2)
        at = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
        wait = (at - local_now()).total_seconds()
        if self.plan.restart_at_most is not None:
            wait = min(wait, self.plan.restart_at_most)
        self.restart_at = time.monotonic() + max(0.0, wait)
        return f"{at:%I:%M %p}"

    def terminate(self) -> None:
        self.terminated.set()


async def _amain(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
        validate(args)
    except LaunchError as exc:
        print("\n=========================== An error has occurred "
              "=============================\n", file=sys.stderr)
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return exc.code
    ini_path = Path(args.ibc_ini or Path.home() / "ibc" / "config.ini")
    ini = IbcIni.read(ini_path)
    scenario_path = find_scenario(ini_path)
    raw = load_raw(scenario_path) if scenario_path else {}
    fake = FakeIbc(args, ini, ini_path, raw)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, fake.terminate)
    try:
        return await fake.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("", "-?", "-h") or argv[0].upper() == "--HELP":
        print(USAGE)
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    return asyncio.run(_amain(argv))


if __name__ == "__main__":
    sys.exit(main())
