"""Fake IBC launcher: ``ibc/fake/scripts/ibcstart.sh`` runs this module.

Takes the real ``ibcstart.sh`` arguments and ``config.ini``, refuses bad
input with IBC's exit codes (see :mod:`.ibc_config`), then plays TWS/Gateway:
login phase (API port closed), optional second-factor wait, then the
simulator answers on ``OverrideTwsApiPort`` (default TWS 7496/7497, Gateway
4001/4002 for live/paper) and IBC's command server answers on
``CommandServerPort`` (``BindAddress``, ``ControlFrom``, ``CommandPrompt``,
``SuppressInfoMessages`` honoured): STOP -> exit 0, RESTART -> warm restart
(port away ``restart_seconds``, back without 2FA), RECONNECTDATA (farm
status re-sent), RECONNECTACCOUNT (1100 then 1102), ENABLEAPI, EXIT.
SIGTERM/SIGINT -> clean exit 0 (what IBC's banner script reports for 143).

The outer loop mirrors ``ibcstart.sh``: a "java" exit 88 (login dialog
timeout) restarts, 87 (2FA timeout) restarts only with
``--on2fatimeout=restart``, anything else ends the launcher with that code.

Scenario: ``$FAKE_IBC_SCENARIO`` or ``fake-ibc.{json,yaml,yml}`` next to the
ini. Simulator keys (accounts, faults, time_scale, ...) as in
:mod:`.scenario`, plus an ``ibc:`` section (all optional)::

    ibc:
      login_seconds: 0.5            # port closed while logging in
      second_factor: false          # wait for 2FA approval after login
      second_factor_timeout: 180    # default: ini SecondFactorAuthenticationTimeout
      approve_file: /path/2fa.ok    # default: <ini dir>/fake-ibc-2fa-approved
      login_dialog_timeouts: 0      # first N starts never show the login dialog
      login_dialog_timeout_seconds: 60   # default: ini LoginDialogDisplayTimeout
      exit_on_login_dialog_timeout: false  # true: exit 88 instead of looping
      restart_seconds: 1.0          # warm restart gap
      script_restart_delay: 2.0     # ibcstart.sh's sleep between passes
      exit_after: {seconds: 5, code: 1}  # "java" dies with this code
      control_port: 0               # simulator control channel (or $FAKE_IBC_CONTROL_PORT)
      api_host: 127.0.0.1           # or $FAKE_IBC_API_HOST

Approve a pending second factor by creating the approve file (it is removed
when a 2FA wait starts) or with ``APPROVE`` on the simulator control port.
With ``ReloginAfterSecondFactorAuthenticationTimeout=yes`` a 2FA timeout
relogs in instead of exiting 87.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._log import get_logger
from .ibc_command import CommandServer
from .ibc_config import (
    E_2FA_DIALOG_TIMED_OUT,
    E_LOGIN_DIALOG_DISPLAY_TIMEOUT,
    USAGE,
    IbcIni,
    LaunchArgs,
    LaunchError,
    api_port,
    parse_args,
    trading_mode,
    validate,
)
from .scenario import Scenario, load_raw
from .server import SimConfig, SimTWS

log = get_logger(__name__)
WARM_RESTART = -1
STOPPED = 0


def say(line: str) -> None:
    """IBC writes its progress to stdout; supervisors read it."""
    print(line, flush=True)


@dataclass
class IbcPlan:
    """The ``ibc:`` scenario section merged with config.ini defaults."""

    login_seconds: float
    second_factor: bool
    second_factor_timeout: float
    approve_file: Path
    login_dialog_timeouts: int
    login_dialog_timeout_seconds: float
    exit_on_login_dialog_timeout: bool
    restart_seconds: float
    script_restart_delay: float
    exit_after: dict[str, Any] | None
    control_port: int | None
    api_host: str
    relogin_after_2fa_timeout: bool

    @classmethod
    def build(cls, raw: dict[str, Any], ini: IbcIni, ini_path: Path) -> IbcPlan:
        env_ctl = os.environ.get("FAKE_IBC_CONTROL_PORT")
        ctl = raw.get("control_port", int(env_ctl) if env_ctl else None)
        return cls(
            login_seconds=float(raw.get("login_seconds", 0.5)),
            second_factor=bool(raw.get("second_factor", False)),
            second_factor_timeout=float(
                raw.get(
                    "second_factor_timeout", ini.number("SecondFactorAuthenticationTimeout", 180)
                )
            ),
            approve_file=Path(raw.get("approve_file") or ini_path.parent / "fake-ibc-2fa-approved"),
            login_dialog_timeouts=int(raw.get("login_dialog_timeouts", 0)),
            login_dialog_timeout_seconds=float(
                raw.get("login_dialog_timeout_seconds", ini.number("LoginDialogDisplayTimeout", 60))
            ),
            exit_on_login_dialog_timeout=bool(raw.get("exit_on_login_dialog_timeout", False)),
            restart_seconds=float(raw.get("restart_seconds", 1.0)),
            script_restart_delay=float(raw.get("script_restart_delay", 2.0)),
            exit_after=raw.get("exit_after"),
            control_port=None if ctl is None else int(ctl),
            api_host=str(raw.get("api_host") or os.environ.get("FAKE_IBC_API_HOST") or "127.0.0.1"),
            relogin_after_2fa_timeout=ini.flag("ReloginAfterSecondFactorAuthenticationTimeout"),
        )


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
    """One launcher run: the ibcstart.sh restart loop around fake "java" runs."""

    def __init__(
        self, args: LaunchArgs, ini: IbcIni, ini_path: Path, raw_scenario: dict[str, Any]
    ) -> None:
        self.args = args
        self.ini = ini
        self.plan = IbcPlan.build(dict(raw_scenario.get("ibc") or {}), ini, ini_path)
        self.scenario = Scenario.from_dict(raw_scenario)
        self.port = api_port(args, ini)
        self.sim = SimTWS(
            SimConfig(
                host=self.plan.api_host,
                port=self.port,
                scenario=self.scenario,
                control_port=self.plan.control_port,
            )
        )
        self.sim.faults.offline = True
        self.stop_requested = asyncio.Event()
        self.restart_requested = asyncio.Event()
        self.commands = CommandServer(self, ini)
        self._dialog_timeouts = 0
        self._first_run = True

    async def run(self) -> int:
        await self.sim.start()
        await self.commands.start()
        say(
            f"IBC (fake): {'Gateway' if self.args.gateway else 'TWS'} {self.args.tws_version}, "
            f"mode {trading_mode(self.args, self.ini)}, API port {self.port}"
        )
        try:
            return await self._script_loop()
        finally:
            await self.commands.stop()
            await self.sim.stop()

    async def _script_loop(self) -> int:
        warm = False
        while True:
            code = await self._java_run(warm)
            if code == WARM_RESTART:
                warm = True
                continue
            say(f"IBC returned exit status {code}")
            if (
                code == E_LOGIN_DIALOG_DISPLAY_TIMEOUT
                and not self.plan.exit_on_login_dialog_timeout
            ):
                warm = False
            elif code == E_2FA_DIALOG_TIMED_OUT and self.args.on2fatimeout.lower() == "restart":
                warm = False
            else:
                say(f"{'Gateway' if self.args.gateway else 'TWS'} finished")
                return code
            say("IBC will restart shortly")
            if await self._wait_stop(self.plan.script_restart_delay):
                return STOPPED

    async def _wait_stop(self, seconds: float) -> bool:
        """Sleep, but return True early if a stop was requested."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_requested.wait(), seconds)
        return self.stop_requested.is_set()

    async def _java_run(self, warm: bool) -> int:
        """One TWS lifetime: login, optional 2FA, serve until stop/restart/crash."""
        await self.sim.set_offline(True)
        if self._dialog_timeouts < self.plan.login_dialog_timeouts and not warm:
            self._dialog_timeouts += 1
            say("IBC: Login dialog not displayed (fake scenario)")
            if await self._wait_stop(self.plan.login_dialog_timeout_seconds):
                return STOPPED
            say("IBC: Login dialog display timeout: exiting")
            return E_LOGIN_DIALOG_DISPLAY_TIMEOUT
        say(
            "IBC: Restarting (warm, no second factor)"
            if warm
            else "IBC: Login dialog shown, logging in"
        )
        if await self._wait_stop(self.plan.restart_seconds if warm else self.plan.login_seconds):
            return STOPPED
        if not warm and self.plan.second_factor:
            code = await self._second_factor()
            if code is not None:
                return code
        await self.sim.set_offline(False)
        say("IBC: Login has completed")
        log.info("fake_ibc_logged_in", port=self.port, warm=warm)
        return await self._serve()

    async def _second_factor(self) -> int | None:
        while True:
            with contextlib.suppress(FileNotFoundError):
                self.plan.approve_file.unlink()
            await self.sim.second_factor_pending()
            say("IBC: Second Factor Authentication initiated")
            if await self._await_approval():
                say("IBC: Second Factor Authentication completed")
                return None
            if self.stop_requested.is_set():
                return STOPPED
            self.sim.faults.second_factor_pending = False
            say("IBC: Second Factor Authentication dialog timed out")
            if not self.plan.relogin_after_2fa_timeout:
                return E_2FA_DIALOG_TIMED_OUT
            say("IBC: Re-login after second factor authentication timeout")
            if await self._wait_stop(self.plan.login_seconds):
                return STOPPED

    async def _await_approval(self) -> bool:
        deadline = time.monotonic() + self.plan.second_factor_timeout
        while time.monotonic() < deadline and not self.stop_requested.is_set():
            if self.plan.approve_file.exists():
                await self.sim.approve_second_factor()
            if self.sim.second_factor_approved.is_set():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sim.second_factor_approved.wait(), 0.05)
        return self.sim.second_factor_approved.is_set()

    async def _serve(self) -> int:
        self.restart_requested.clear()
        crash = self.plan.exit_after if self._first_run else None
        self._first_run = False
        waits = {
            asyncio.ensure_future(self.stop_requested.wait()): "stop",
            asyncio.ensure_future(self.restart_requested.wait()): "restart",
        }
        if crash:
            waits[asyncio.ensure_future(asyncio.sleep(float(crash.get("seconds", 0))))] = "crash"
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in waits:
                fut.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        reason = waits[next(iter(done))]
        await self.sim.drop_connections()
        await self.sim.set_offline(True)
        if reason == "restart" and not self.stop_requested.is_set():
            say("IBC: Restart in progress")
            return WARM_RESTART
        if reason == "crash" and crash:
            return int(crash.get("code", 1))
        return STOPPED

    def request_stop(self) -> None:
        self.stop_requested.set()

    def request_restart(self) -> None:
        self.restart_requested.set()


async def _amain(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
        validate(args)
    except LaunchError as exc:
        print(
            "\n=========================== An error has occurred =============================\n",
            file=sys.stderr,
        )
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return exc.code
    ini_path = Path(args.ibc_ini or Path.home() / "ibc" / "config.ini")
    ini = IbcIni.read(ini_path)
    scenario_path = find_scenario(ini_path)
    raw = load_raw(scenario_path) if scenario_path else {}
    fake = FakeIbc(args, ini, ini_path, raw)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, fake.request_stop)
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
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    return asyncio.run(_amain(argv))


if __name__ == "__main__":
    sys.exit(main())
