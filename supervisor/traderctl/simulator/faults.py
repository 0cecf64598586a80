"""Fault state shared by all client sessions: freeze, slow replies, phases.

``gate()`` is awaited before every message a session handles, so a freeze
holds requests (and answers them after unfreeze, as a TWS recovering from a
GUI hang would) and a delay slows every reply. Listener-affecting faults
(refuse, login phase, second factor) are tracked here and applied by the
server, which opens the API port only when none of them is active.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

FARM_MESSAGES = {
    2104: "Market data farm connection is OK:{farm}",
    2106: "HMDS data farm connection is OK:{farm}",
    2158: "Sec-def data farm connection is OK:{farm}",
    2103: "Market data farm connection is broken:{farm}",
    2105: "HMDS data farm connection is broken:{farm}",
    2157: "Sec-def data farm connection is broken:{farm}",
    2107: "HMDS data farm connection is inactive but should be available upon demand.{farm}",
    2108: "Market data farm connection is inactive but should be available upon demand.{farm}",
}
CONNECTIVITY_MESSAGES = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2110: (
        "Connectivity between Trader Workstation and server is broken. "
        "It will be restored automatically."
    ),
}
# farm -> (ok code, broken code)
FARM_KINDS = {"market": (2104, 2103), "hmds": (2106, 2105), "secdef": (2158, 2157)}
DEFAULT_FARMS = {"usfarm": "market", "ushmds": "hmds", "secdefil": "secdef"}


def farm_kind(code: int) -> str:
    for kind, codes in FARM_KINDS.items():
        if code in codes:
            return kind
    return {2107: "hmds", 2108: "market"}.get(code, "market")


@dataclass
class FaultState:
    delay: float = 0.0
    jitter: float = 0.0
    refused: bool = False
    offline: bool = False
    login_until: float = 0.0
    second_factor_pending: bool = False
    connectivity: int = 1102
    farms: dict[str, tuple[str, bool]] = field(default_factory=dict)
    _running: asyncio.Event = field(default_factory=asyncio.Event)
    _rng: random.Random = field(default_factory=lambda: random.Random(1234))

    def __post_init__(self) -> None:
        self._running.set()
        for farm, kind in DEFAULT_FARMS.items():
            self.farms.setdefault(farm, (kind, True))

    @property
    def frozen(self) -> bool:
        return not self._running.is_set()

    def freeze(self) -> None:
        self._running.clear()

    def unfreeze(self) -> None:
        self._running.set()

    async def gate(self) -> None:
        """Wait out a freeze, then the configured delay plus jitter."""
        if not self._running.is_set():
            await self._running.wait()
        if self.delay or self.jitter:
            await asyncio.sleep(self.delay + self._rng.uniform(0, self.jitter))

    @property
    def in_login(self) -> bool:
        return time.monotonic() < self.login_until

    @property
    def port_open(self) -> bool:
        return not (self.refused or self.offline or self.in_login or self.second_factor_pending)

    def farm_codes(self) -> list[tuple[int, str]]:
        """Current farm status as (code, message) for a new connection."""
        out = []
        for farm, (kind, ok) in self.farms.items():
            ok_code, broken_code = FARM_KINDS[kind]
            code = ok_code if ok else broken_code
            out.append((code, FARM_MESSAGES[code].format(farm=farm)))
        return out

    def set_farm(self, code: int, farm: str) -> str:
        """Record a farm status change; return the message text."""
        kind = farm_kind(code)
        self.farms[farm] = (kind, code in (2104, 2106, 2158))
        return FARM_MESSAGES[code].format(farm=farm)

    def summary(self) -> dict[str, object]:
        return {
            "frozen": self.frozen,
            "delay": self.delay,
            "jitter": self.jitter,
            "refused": self.refused,
            "offline": self.offline,
            "in_login": self.in_login,
            "second_factor_pending": self.second_factor_pending,
            "connectivity": self.connectivity,
            "port_open": self.port_open,
            "farms": {f: ok for f, (_, ok) in self.farms.items()},
        }
