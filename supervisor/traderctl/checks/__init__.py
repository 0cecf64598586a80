"""Health checks: what ``traderctl check`` runs and what plugins register."""

from __future__ import annotations

import inspect
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


async def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    """Run one check within its timeout; a crash or a timeout is ``unknown``, never ``ok``."""
    import asyncio

    timeout = check.timeout or ctx.config.get("checks.timeout", 15.0)
    try:
        async with asyncio.timeout(timeout):
            if inspect.iscoroutinefunction(check.run):
                result = await check.run(ctx)
            else:
                result = await asyncio.to_thread(check.run, ctx)
    except TimeoutError:
        return CheckResult("unknown", f"timed out after {timeout:g}s")
    except Exception as exc:  # a broken check must not hide the others
        return CheckResult("unknown", f"check raised {type(exc).__name__}: {exc}")
    if not isinstance(result, CheckResult):
        return CheckResult("unknown", f"check returned {type(result).__name__}, not CheckResult")
    return result


async def run_checks(checks: list[Check], ctx: CheckContext) -> dict[str, CheckResult]:
    """All checks concurrently; results keyed by check name in registration order."""
    import asyncio

    results = await asyncio.gather(*(run_check(c, ctx) for c in checks))
    return {c.name: r for c, r in zip(checks, results, strict=True)}


def exit_code(results: dict[str, CheckResult]) -> int:
    """0 all good, 1 when any check fails, 2 when none fails but one could not tell."""
    statuses = {r.status for r in results.values()}
    if "fail" in statuses:
        return 1
    return 2 if "unknown" in statuses else 0
