"""What a check is: the model ``register_checks`` names (:mod:`traderctl.plugin.spec`).

It is part of the plugin contract, so it lives with the plugin host; plugins import it
from :mod:`traderctl.checks`, which runs the checks and re-exports these names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from traderctl.config.loader import Config
    from traderctl.plugin.manager import PluginManager

Status = Literal["ok", "warn", "fail", "unknown", "disabled"]
FAILING: frozenset[str] = frozenset({"fail", "unknown"})


@dataclass(frozen=True)
class CheckResult:
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, name: str) -> dict[str, Any]:
        return {"check": name, "status": self.status, "summary": self.summary,
                "details": self.details}


@dataclass(frozen=True)
class CheckContext:
    """What a check gets: the effective config and the plugin manager."""

    config: Config
    pm: PluginManager


CheckFunc = Callable[[CheckContext], "CheckResult | Awaitable[CheckResult]"]


@dataclass(frozen=True)
class Check:
    """A named check. ``run`` may be sync (run in a thread) or async; ``timeout`` in
    seconds, default ``checks.timeout``."""

    name: str
    run: CheckFunc
    doc: str = ""
    timeout: float | None = None
