"""The login as IBC reports it: phase, second-factor waits, login failures.

:class:`LoginTracker` is fed every recognised IBC line
(:mod:`traderctl.tws.ibclines`) and the API probe's verdicts. What it keeps:

* **phase**: ``login`` -> ``second factor pending`` -> ``api accepting``.
* **the second-factor wait**: one pending event per prompt (``Second Factor
  Authentication initiated``; the dialog's ``Opened``/``Activated`` events
  repeat and are not counted). The wait's clock starts at the first prompt and
  runs across IBC's re-logins after a prompt times out (``Re-login after second
  factor authentication timeout ...``), so ``second_factor_limit`` acts on the
  real waiting time. A closed dialog is no success: IBC logs it for an approved
  and for an expired prompt alike. Success is ``Login has completed`` or the API
  accepting.
* **login failures**: ``Login failed``, ``Login error message:`` and ``Too many
  failed login attempts`` end the service (IBC would cold-restart and try the
  same credentials again until IB locks the account).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from traderctl.events import utcnow
from traderctl.tws.ibclines import IbcLine

LOGIN, SECOND_FACTOR, ACCEPTING = "login", "second factor pending", "api accepting"
CARD = "Security Code Card Authentication"

Emit = Callable[..., None]


class LoginTracker:
    """See the module doc; ``emit(event_name, **fields)`` reports what happened."""

    def __init__(self, emit: Emit, device: str | None, limit: float,
                 secrets: Callable[[], list[str]] = list) -> None:
        self.emit = emit
        self.device = device
        self.limit = limit
        self.secrets = secrets
        self.phase = LOGIN
        self.since: float | None = None   # monotonic start of the current wait
        self.since_at: str | None = None  # the same, for status (UTC ISO)
        self.prompts = 0
        self.method = "Second Factor Authentication"
        self.note = ""                    # what IBC said last about the wait
        self.failed: str | None = None    # a login failure: the reason
        self.gave_up: str | None = None   # the limit passed
        self._error_next = False          # "Login error message:" is followed by the text

    # ---- a new run -----------------------------------------------------------------------

    def new_run(self, keep_wait: bool) -> None:
        """A spawn: the wait goes on only if the last run ended inside it (exit 87)."""
        self.phase = LOGIN
        self.failed = self.gave_up = None
        self._error_next = False
        self.note = ""
        if not keep_wait:
            self.since = self.since_at = None
            self.prompts = 0

    # ---- IBC's lines ---------------------------------------------------------------------

    def feed(self, line: IbcLine | None, raw: str) -> None:
        if self._error_next:
            self._error_next = False
            if line is None or line.kind != "login_error":
                self._fail("IB login error: " + (raw.strip() or "no message"))
                if line is None:
                    return
        if line is None:
            return
        handler = getattr(self, "_on_" + line.kind, None)
        if handler is not None:
            handler(line)

    def _on_dialog_second_factor(self, line: IbcLine) -> None:
        if line.fields.get("event") == "Opened":
            self.method = line.fields["title"]

    def _on_second_factor_pending(self, line: IbcLine) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            self.since_at = utcnow().isoformat()
        self.prompts += 1
        self.phase = SECOND_FACTOR
        self.note = ""
        self.emit("tws_second_factor_pending", device=self.device, method=self.method,
                  since=self.since_at, prompt=self.prompts, limit=self.limit)

    def _on_second_factor_timeout(self, line: IbcLine) -> None:
        if self.since is None:
            return
        again = line.number() is not None
        self.note = (f"prompt {self.prompts} timed out, IBC logs in again" if again else
                     f"prompt {self.prompts} timed out, IBC does not log in again")
        self.emit("tws_second_factor_timeout", prompt=self.prompts, relogin=again,
                  waited=round(self.waited(), 1))

    def _on_second_factor_acknowledged(self, line: IbcLine) -> None:
        if self.since is not None:
            self.note = f"acknowledged, IBC waits {line.number()}s for the login"

    def _on_logged_in(self, line: IbcLine) -> None:
        self.completed("login completed")
        if self.phase != ACCEPTING:
            self.phase = LOGIN

    def _on_login_failed(self, line: IbcLine) -> None:
        self._fail("IB login failed (wrong user name or password?)")

    def _on_login_error(self, line: IbcLine) -> None:
        self._error_next = True

    def _on_login_locked(self, line: IbcLine) -> None:
        self._fail("IB login refused: " + line.text.removeprefix("IBC: ").strip())

    def _on_session_cold(self, line: IbcLine) -> None:
        self.phase = LOGIN

    def _on_session_restart(self, line: IbcLine) -> None:
        self.phase = LOGIN

    def _fail(self, reason: str) -> None:
        if self.failed is not None:
            return
        for secret in self.secrets():
            reason = reason.replace(secret, "***")
        self.failed = reason
        self.emit("tws_login_failed", reason=reason)

    # ---- the API's side ------------------------------------------------------------------

    def api_accepting(self) -> None:
        if self.phase != ACCEPTING:
            self.completed("api accepting")
            self.phase = ACCEPTING

    def api_refused(self) -> None:
        if self.phase == ACCEPTING:
            self.phase = LOGIN

    def completed(self, how: str) -> None:
        if self.since is None:
            return
        waited = self.waited()
        self.since = self.since_at = None
        prompts, self.prompts = self.prompts, 0
        self.note = ""
        self.emit("tws_second_factor_completed", waited=round(waited, 1), how=how,
                  prompts=prompts)

    # ---- what the runner asks ------------------------------------------------------------

    def waited(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since

    def waiting(self) -> bool:
        """A human is being asked (and the limit has not passed)."""
        return self.since is not None and not self.expired() and self.failed is None

    def expired(self) -> bool:
        if self.gave_up is not None:
            return True
        if self.since is None or self.waited() <= self.limit:
            return False
        self.gave_up = f"second factor not approved within {self.limit:g}s"
        self.emit("tws_second_factor_abandoned", waited=round(self.waited(), 1),
                  limit=self.limit, prompts=self.prompts)
        return True

    def give_up(self) -> str | None:
        self.expired()
        return self.failed or self.gave_up

    def detail(self) -> str:
        what = SECOND_FACTOR
        if self.method == CARD:
            what += " (Security Code Card)"
        elif self.device:
            what += f" on {self.device}"
        return f"{what}; {self.note}" if self.note else what

    def status(self) -> dict[str, Any]:
        return {"second_factor_pending_since": self.since_at,
                "second_factor_prompts": self.prompts,
                "login_failed": self.failed}
