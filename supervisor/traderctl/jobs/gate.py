"""Is TWS able to serve requests? Workers wait at this gate instead of burning attempts.

Two sources, either can close the gate:

* the supervisor, over its control socket: the ``tws`` service (``jobs.tws_service``)
  must be ``running``, outside a reset window and with IB connectivity. No supervisor,
  or no such service, means no opinion (a worker run by hand still works).
* after an outage-class error (timeout, disconnect, 1100), an API probe
  (``reqCurrentTime`` on its own client id) must answer before the gate reopens: this
  is what notices a frozen TWS that the supervisor still thinks is running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from traderctl.logs import get_logger

log = get_logger(__name__)


class TwsGate:
    def __init__(self, socket_path: str | None, service: str = "tws",
                 api: tuple[str, int, int] | None = None, poll: float = 1.0,
                 probe_timeout: float = 5.0,
                 on_change: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.socket_path = socket_path
        self.service = service
        self.api = api
        self.poll = poll
        self.probe_timeout = probe_timeout
        self.on_change = on_change or (lambda name, fields: None)
        self.reason: str | None = None  # why the gate is closed; None while open
        self.tripped: str | None = None
        self._probe: Any = None
        self._asked_at = 0.0
        self._supervisor_says: str | None = None
        self._checked_at = 0.0

    async def wait_open(self, stop: asyncio.Event) -> None:
        """Return once the gate is open (or ``stop`` is set); announces pause and resume."""
        while not stop.is_set() and not await self._update():
            try:
                await asyncio.wait_for(stop.wait(), self.poll)
            except TimeoutError:
                pass

    async def is_open(self) -> bool:
        """Check now (at most once per ``poll`` while closed), announcing pause and resume."""
        if self.reason is not None and time.monotonic() - self._checked_at < self.poll:
            return False
        return await self._update()

    async def _update(self) -> bool:
        self._checked_at = time.monotonic()
        reason = await self.check()
        if reason is None:
            if self.reason is not None:
                log.info("jobs_resumed", after=self.reason)
                self.on_change("jobs_resumed", {"after": self.reason})
                self.reason = None
            return True
        if reason != self.reason:
            log.warning("jobs_paused", reason=reason)
            self.on_change("jobs_paused", {"reason": reason})
            self.reason = reason
        return False

    async def check(self) -> str | None:
        """None when open, else why it is closed."""
        said = await self._ask_supervisor()
        if said is not None:
            return said
        if self.tripped is not None:
            failure = await self._probe_api()
            if failure is not None:
                return f"{failure} (after: {self.tripped})"
            self.tripped = None
        return None

    async def confirm_down(self, error: str) -> str | None:
        """After an outage-class error: is TWS really unavailable? The reason if so."""
        self._asked_at = 0.0  # ask afresh
        said = await self._ask_supervisor()
        if said is not None:
            return said
        if self.api is None:
            return None
        failure = await self._probe_api()
        if failure is not None:
            self.tripped = error
            return failure
        return None

    async def _ask_supervisor(self) -> str | None:
        if self.socket_path is None:
            return None
        now = time.monotonic()
        if now - self._asked_at >= self.poll:
            self._asked_at = now
            self._supervisor_says = await asyncio.to_thread(self._service_problem)
        return self._supervisor_says

    def _service_problem(self) -> str | None:
        from traderctl.daemon.client import ControlClient, ControlError, DaemonUnreachable

        assert self.socket_path is not None
        try:
            reply = ControlClient(self.socket_path, timeout=5).call(
                "status", names=[self.service])
        except (DaemonUnreachable, ControlError, OSError, ValueError):
            return None  # no supervisor, or it does not know the service: no opinion
        (status,) = reply["services"] or [{}]
        return service_problem(self.service, status)

    async def _probe_api(self) -> str | None:
        if self.api is None:
            return None
        if self._probe is None:
            from traderctl.tws.session import ApiProbe

            self._probe = ApiProbe(*self.api, timeout=self.probe_timeout)
        result = await self._probe.check()
        return None if result.ok else str(result.detail)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None


def service_problem(name: str, status: dict[str, Any]) -> str | None:
    """Why a supervised TWS cannot serve requests now, from its ``status`` entry."""
    state = status.get("state")
    if state != "running":
        return f"service {name} is {state}" + (f" ({status['detail']})"
                                                if status.get("detail") else "")
    tws = status.get("tws") or {}
    if tws.get("reset_window"):
        return f"service {name} is in reset window {tws['reset_window']}"
    connectivity = tws.get("connectivity")
    if connectivity and connectivity != "ok":
        return f"service {name}: IB connectivity {connectivity}"
    return None
