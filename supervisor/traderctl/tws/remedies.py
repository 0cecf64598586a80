"""Healing a TWS session, softest first.

* **soft** (while running, :meth:`Remedies.soft_loop`): a data farm broken for
  ``farm_grace`` gets IBC's ``RECONNECTDATA``, lost IB connectivity
  ``RECONNECTACCOUNT``; at most ``soft_attempts`` per incident, backing off.
* **a hung API** (:meth:`Remedies.hung_api`): inside an expected outage, wait and
  report; else IBC ``RESTART`` (warm, no second factor) and wait for the API, then
  give up on the run: the driver's ``before_stop`` sends ``STOP`` and the next start
  is a cold one. At most one RESTART per ``warm_restart_every``. On IB Gateway the
  RESTART takes effect at the next minute (or the one after, IBC's ``RestartTask``),
  so the wait runs to the time IBC names plus ``restart_timeout``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from traderctl.events import utcnow
from traderctl.logs import get_logger
from traderctl.services.probes import ProbeResult
from traderctl.tws import windows as reset
from traderctl.tws.commandserver import CommandServerError, Reply, send_command
from traderctl.tws.session import SessionObserver

if TYPE_CHECKING:
    from traderctl.tws.servicetype import TwsSpec

log = get_logger(__name__)
_RESTART_AT = re.compile(r"RESTART at (\d\d):(\d\d) ([AP]M)", re.I)
GATEWAY_MINUTES = 120.0  # no time named: the next minute, or the one after


@dataclass
class Incident:
    """A farm or connectivity problem and the soft remedies tried on it."""

    attempts: int = 0
    next_at: float = 0.0
    suppressed: bool = False
    reported: bool = False


class Remedies:
    """The remedy side of one tws service; the driver passes in what it needs."""

    def __init__(self, spec: TwsSpec, name: str, command_port: int,
                 emit: Callable[..., None], waiting: Callable[[], bool],
                 gave_up: Callable[[], bool], outage: Callable[[], reset.ActiveWindow | None],
                 set_detail: Callable[[str], None]) -> None:
        self.spec, self.name, self.command_port = spec, name, command_port
        self.emit, self.waiting, self.gave_up = emit, waiting, gave_up
        self.outage, self.set_detail = outage, set_detail
        self.incidents: dict[str, Incident] = {}
        self.last_warm_restart: float | None = None
        self.last: dict[str, Any] | None = None
        self.escalated: str | None = None

    # ---- IBC commands, recorded ----------------------------------------------------------

    async def ibc(self, command: str, reason: str) -> Reply | None:
        """Send one IBC command and record it as a remedy (event ``tws_remedy``)."""
        try:
            reply = await send_command(self.command_port, command,
                                       within=min(5.0, max(1.0, self.spec["probe_timeout"])))
        except CommandServerError as exc:
            self.record(command, reason, False, str(exc))
            return None
        self.record(command, reason, reply.ok, "; ".join((str(reply), *reply.more)))
        return reply

    def record(self, action: str, reason: str, ok: bool, reply: str = "") -> None:
        self.last = {"action": action, "reason": reason, "ok": ok, "reply": reply,
                     "at": utcnow().isoformat()}
        self.emit("tws_remedy", action=action, reason=reason, ok=ok, reply=reply)

    def suppressed(self, action: str, why: str, outage: reset.ActiveWindow) -> None:
        self.emit("tws_action_suppressed", action=action, reason=why,
                  window=outage.window.name, until=outage.until.isoformat())

    # ---- soft remedies -------------------------------------------------------------------

    async def soft_loop(self, observer: SessionObserver) -> None:
        spec = self.spec
        tick = min(spec["farm_grace"] / 2, spec["probe_interval"])
        while True:
            await asyncio.sleep(tick)
            if not observer.connected:
                continue
            broken = observer.broken_farms()
            await self.soft_step(
                "farm", min((f.since for f in broken), default=None), "RECONNECTDATA",
                "data farm " + ", ".join(f.name for f in broken) + " broken")
            lost = observer.connectivity
            await self.soft_step("connectivity", None if lost.ok else lost.since,
                                 "RECONNECTACCOUNT",
                                 f"IB connectivity lost ({lost.code}: {lost.text})")

    async def soft_step(self, key: str, since: float | None, command: str, why: str) -> None:
        spec = self.spec
        if since is None:
            self.incidents.pop(key, None)
            return
        incident = self.incidents.setdefault(key, Incident(next_at=since + spec["farm_grace"]))
        now = time.monotonic()
        if now < incident.next_at or incident.attempts >= spec["soft_attempts"]:
            return
        if self.waiting():
            return
        outage = self.outage()
        if outage is not None:
            if not incident.suppressed:
                incident.suppressed = True
                self.suppressed(command, why, outage)
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
        await self.ibc(command, why)

    # ---- a hung API: the escalation ladder -----------------------------------------------

    async def hung_api(self, result: ProbeResult,
                       probe: Callable[[], Awaitable[ProbeResult]], gateway: bool) -> bool:
        """True if healed in place; False: stop this run (the next start is cold)."""
        reason = result.detail
        if await self.wait_out_outage(reason, probe):
            return True
        if self.command_port and not self.warm_restart_recent():
            self.last_warm_restart = time.monotonic()
            reply = await self.ibc("RESTART", reason)
            if reply is not None and reply.ok:
                within = self.restart_allowance(reply, gateway)
                self.set_detail(f"{reason}; warm RESTART sent, waiting up to {within:.0f}s "
                                "for the API")
                if await self.wait_for_api(within, probe):
                    return True
                reason = f"API still not answering {within:.0f}s after a warm RESTART"
        self.escalated = reason
        self.record("STOP", reason, True, "stopping TWS; the next start is a cold one")
        return False

    def warm_restart_recent(self) -> bool:
        last = self.last_warm_restart
        return last is not None and time.monotonic() - last < self.spec["warm_restart_every"]

    def restart_allowance(self, reply: Reply, gateway: bool,
                          now: datetime | None = None) -> float:
        """How long the API may be away after a RESTART (IB Gateway: until the named time)."""
        timeout = float(self.spec["restart_timeout"])
        if not gateway:
            return timeout
        for text in (reply.text, *reply.more):
            if match := _RESTART_AT.search(text):
                return timeout + seconds_until(match, now)
        return timeout + GATEWAY_MINUTES

    async def wait_out_outage(self, reason: str,
                              probe: Callable[[], Awaitable[ProbeResult]]) -> bool:
        """Inside an expected outage: report, probe on, act only if it ends still failing."""
        outage = self.outage()
        if outage is None:
            return False
        self.suppressed("RESTART", reason, outage)
        while outage is not None:
            self.set_detail(f"{reason}; in {outage.describe()}: not acting")
            await asyncio.sleep(self.spec["probe_interval"])
            result = await probe()
            if result.ok:
                return True
            reason = result.detail
            outage = self.outage()
        return False

    async def wait_for_api(self, within: float,
                           probe: Callable[[], Awaitable[ProbeResult]]) -> bool:
        """Probe until the API answers; time spent waiting on a second factor is not counted."""
        deadline = time.monotonic() + within
        mark = time.monotonic()
        while True:
            now = time.monotonic()
            if self.waiting():
                deadline += now - mark
            mark = now
            if now >= deadline or self.gave_up():
                return False
            await asyncio.sleep(self.spec["probe_interval"])
            if (await probe()).ok:
                return True


def seconds_until(match: re.Match[str], now: datetime | None = None) -> float:
    """Seconds from ``now`` (local) to the next ``hh:mm AM/PM`` on this machine's clock."""
    hour = int(match.group(1)) % 12 + (12 if match.group(3).upper() == "PM" else 0)
    local = (now or datetime.now().astimezone()).astimezone()
    target = local.replace(hour=hour, minute=int(match.group(2)), second=0, microsecond=0)
    if target < local - timedelta(minutes=1):
        target += timedelta(days=1)
    return max(0.0, (target - local).total_seconds())
