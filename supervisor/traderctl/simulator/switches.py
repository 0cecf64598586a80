"""Fault switches: the failure modes a test or scenario can turn on and off.

Freeze, slow replies, dropped or refused connections, farm and connectivity
messages, the login phase, a pending second factor and a warm restart. Each
is a coroutine on the simulator's loop; :meth:`FaultSwitches.fault_action`
maps the lower-case names the scenario timeline and the control port use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._log import get_logger
from .faults import CONNECTIVITY_MESSAGES, FARM_MESSAGES
from .listener import Listener

log = get_logger(__name__)


class FaultSwitches(Listener):
    """Listener plus the switches that break it on purpose."""

    second_factor_approved: asyncio.Event

    async def freeze(self) -> None:
        """Accept connections but answer nothing until unfreeze()."""
        self.faults.freeze()
        log.warning("sim_tws_frozen")

    async def unfreeze(self) -> None:
        self.faults.unfreeze()
        log.info("sim_tws_unfrozen")

    async def set_delay(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every reply by ``seconds`` plus uniform jitter."""
        self.faults.delay, self.faults.jitter = float(seconds), float(jitter)
        log.info("sim_tws_delay_set", delay=seconds, jitter=jitter)

    async def drop_connections(self) -> int:
        """Close every client socket (TWS crash / network cut); returns how many."""
        sessions = self.sessions
        for session in sessions:
            session.close()
        log.warning("sim_tws_connections_dropped", count=len(sessions))
        return len(sessions)

    async def refuse_connections(self) -> None:
        """Close the API listener: new connects get ECONNREFUSED."""
        self.faults.refused = True
        await self.sync_listener()

    async def accept_connections(self) -> None:
        self.faults.refused = False
        await self.sync_listener()

    async def set_farm(self, code: int, farm: str) -> None:
        """Push a farm status (2104/2106/2158 OK, 2103/2105/2157 broken) to every client."""
        if int(code) not in FARM_MESSAGES:
            raise ValueError(f"not a farm status code: {code}")
        text = self.faults.set_farm(int(code), farm)
        log.info("sim_tws_farm_status", code=code, farm=farm)
        self.broadcast_error(int(code), text)

    async def announce_farms(self) -> None:
        """Re-send the current status of every farm (IBC RECONNECTDATA)."""
        for code, text in self.faults.farm_codes():
            self.broadcast_error(code, text)

    async def set_connectivity(self, code: int) -> None:
        """Push 1100 (lost), 1101 (restored, data lost) or 1102 (restored, maintained)."""
        code = int(code)
        if code not in CONNECTIVITY_MESSAGES:
            raise ValueError(f"not a connectivity code: {code}")
        self.faults.connectivity = code
        log.info("sim_tws_connectivity", code=code)
        self.broadcast_error(code, CONNECTIVITY_MESSAGES[code])

    def connectivity_text(self, code: int) -> str:
        return CONNECTIVITY_MESSAGES[code]

    async def login_phase(self, seconds: float) -> None:
        """Close the API port for ``seconds`` (TWS logging in)."""
        self.faults.login_until = max(self.faults.login_until, time.monotonic() + float(seconds))
        await self.sync_listener()
        log.info("sim_tws_login_phase", seconds=seconds)
        self.spawn(self.reopen_after(float(seconds)))

    async def reopen_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        while self.faults.in_login:
            await asyncio.sleep(max(0.01, self.faults.login_until - time.monotonic()))
        await self.sync_listener()

    async def set_offline(self, offline: bool) -> None:
        """TWS not running / not logged in (used by the fake IBC launcher): port closed."""
        self.faults.offline = bool(offline)
        await self.sync_listener()

    async def second_factor_pending(self) -> None:
        """Close the API port until approve_second_factor()."""
        self.faults.second_factor_pending = True
        self.second_factor_approved.clear()
        await self.sync_listener()
        log.info("sim_tws_second_factor_pending")

    async def approve_second_factor(self) -> None:
        self.faults.second_factor_pending = False
        self.second_factor_approved.set()
        log.info("sim_tws_second_factor_approved")
        await self.sync_listener()

    async def restart(self, seconds: float = 1.0) -> None:
        """Warm restart: drop clients, port away for ``seconds``, back without 2FA."""
        await self.drop_connections()
        await self.login_phase(seconds)

    def fault_action(self, action: str, args: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        """The switch behind a scenario/control action name (KeyError if none)."""
        table: dict[str, Callable[[], Awaitable[Any]]] = {
            "freeze": self.freeze,
            "unfreeze": self.unfreeze,
            "delay": lambda: self.set_delay(
                float(args.get("seconds", 0)), float(args.get("jitter", 0))
            ),
            "drop": self.drop_connections,
            "refuse": self.refuse_connections,
            "accept": self.accept_connections,
            "farm": lambda: self.set_farm(int(args["code"]), str(args.get("farm", "usfarm"))),
            "farms_ok": self.announce_farms,
            "connectivity": lambda: self.set_connectivity(int(args["code"])),
            "login": lambda: self.login_phase(float(args.get("seconds", 1))),
            "second_factor": self.second_factor_pending,
            "2fa": self.second_factor_pending,
            "approve": self.approve_second_factor,
            "restart": lambda: self.restart(float(args.get("seconds", 1))),
        }
        return table[action]
