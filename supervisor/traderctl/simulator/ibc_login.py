"""The fake IBC's login: attempts, login failures and second-factor prompts.

What :class:`LoginPlay` prints follows IBC 3.24's ``LoginManager``,
``SecondFactorAuthenticationDialogHandler``, ``LoginFailedDialogHandler``,
``LoginErrorDialogHandler`` and ``TooManyFailedLoginAttemptsDialogHandler``; see
:mod:`.fake_ibc` for the scenario keys.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .ibc_config import E_2FA_DIALOG_TIMED_OUT

if TYPE_CHECKING:
    from .fake_ibc import FakeIbc

_BANG = "!" * 79


def local_now() -> datetime:
    """This machine's wall clock, aware (IBC prints local times)."""
    return datetime.now(UTC).astimezone()


def say(line: str) -> None:
    """The script's own lines (plain) on stdout, where supervisors read them."""
    print(line, flush=True)


def ibc(text: str) -> None:
    """A line of IBC's Java side (``Utils.logToConsole``)."""
    now = local_now()
    say(f"{now:%Y-%m-%d %H:%M:%S}:{now.microsecond // 1000:03d} IBC: {text}")


def ibc_error(text: str) -> None:
    """``Utils.logError``: the message between two lines of '!'."""
    say(_BANG)
    ibc(text)
    say(_BANG)


class Halted(Exception):
    """SIGTERM reached "java" (it exits 143)."""


class LoginPlay:
    """The login of one "java" run of :class:`.fake_ibc.FakeIbc`."""

    def __init__(self, fake: FakeIbc) -> None:
        self.fake = fake

    async def run(self) -> int | None:
        """The full login: None when it completed, else the run's exit code."""
        attempt = 0
        while True:
            attempt += 1
            ibc(f"Login attempt: {attempt}")
            await self.fake.sleep(self.fake.plan.login_seconds)
            if self.fake.exit_now.is_set():
                return self._stopped()
            plan = self.fake.plan
            if plan.login_failure and self.fake.failures < plan.login_failure_times:
                self.fake.failures += 1
                result = await self._login_failure()
                if result is not None:
                    return result
                continue
            if not self.fake.plan.second_factor:
                return None
            outcome = await self._second_factor()
            if outcome != "relogin":
                return outcome if isinstance(outcome, int) else None

    async def _login_failure(self) -> int | None:
        kind = self.fake.plan.login_failure
        if kind == "locked":
            ibc("Too many failed login attempts. Please wait 53 seconds before attempting "
                "to re-login again.")
            if self.fake.plan.relogin:
                later = local_now() + timedelta(seconds=3)
                ibc(f"Will re-login at {later:%Y-%m-%d %H:%M:%S}; login number: "
                    f"{self.fake.failures + 1}")
                await self.fake.sleep(3.0)
                return self._stopped() if self.fake.exit_now.is_set() else None
            await self.fake.sleep(3600.0)
            return self._stopped()
        if kind == "error":
            ibc("detected dialog entitled: Login Error; event=Opened")
            ibc("Login error message:")
            say(self.fake.plan.login_error_text)
        else:
            ibc("detected dialog entitled: Login failed; event=Opened")
            ibc("Login failed")
        ibc("Cold restart in progress")
        self.fake.cold_flag = True  # StopTask(forceColdRestart): the COLDRESTART flag file
        return self._stopped()

    def _stopped(self) -> int:
        ibc("Login has not completed: exiting immediately")
        return 0

    async def _second_factor(self) -> int | str | None:
        """One prompt: None approved and logged in, "relogin", or an exit code."""
        card = self.fake.plan.second_factor_method == "card"
        title = "Security Code Card Authentication" if card else "Second Factor Authentication"
        with contextlib.suppress(FileNotFoundError):
            self.fake.plan.approve_file.unlink()
        await self.fake.sim.second_factor_pending()
        started = time.monotonic()
        ibc(f"detected dialog entitled: {title}; event=Opened")
        ibc("Second Factor Authentication initiated")
        for _ in range(2):  # the dialog is activated again as it gets the focus
            ibc(f"detected dialog entitled: {title}; event=Activated")
        approved = await self._await_approval()
        if self.fake.exit_now.is_set():
            return self._stopped()
        ibc(f"detected dialog entitled: {title}; event=Closed")
        ibc(f"Duration since login: {int(time.monotonic() - started)} seconds")
        if approved:
            return await self._after_approval()
        self.fake.sim.faults.second_factor_pending = False
        if not self.fake.plan.relogin:
            ibc("Re-login after second factor authentication timeout not required")
            await self.fake.sleep(3600.0)  # TWS sits at its login dialog
            return self._stopped()
        ibc("Re-login after second factor authentication timeout in 5 second")
        await self.fake.sleep(self.fake.plan.relogin_delay)
        return self._stopped() if self.fake.exit_now.is_set() else "relogin"

    async def _after_approval(self) -> int | None:
        if self.fake.plan.relogin:
            ibc(f"If login has not completed, IBC will exit in {self.fake.plan.exit_interval:g} "
                "seconds")
        if not self.fake.plan.login_stalls:
            return None
        await self.fake.sleep(self.fake.plan.exit_interval)
        if self.fake.exit_now.is_set():
            return self._stopped()
        ibc_error("IBC closing because login has not completed after Second Factor "
                  "Authentication")
        ibc(f"Exiting after error with exit code={E_2FA_DIALOG_TIMED_OUT + 1024}")
        return E_2FA_DIALOG_TIMED_OUT

    async def _await_approval(self) -> bool:
        deadline = time.monotonic() + self.fake.plan.second_factor_timeout
        while time.monotonic() < deadline and not self.fake.exit_now.is_set():
            if self.fake.plan.approve_file.exists():
                await self.fake.sim.approve_second_factor()
            if self.fake.sim.second_factor_approved.is_set():
                return True
            await self.fake.sleep(0.05)
        return self.fake.sim.second_factor_approved.is_set()

