"""Health checks: what ``traderctl check`` runs and what plugins register.

The model (:class:`Check`, :class:`CheckResult`, :class:`CheckContext`) is defined with the
plugin contract in :mod:`traderctl.plugin.checktypes`; import it from here.
"""

from __future__ import annotations

import inspect

from traderctl.plugin.checktypes import (
    FAILING,
    Check,
    CheckContext,
    CheckFunc,
    CheckResult,
    Status,
)

__all__ = ["FAILING", "Check", "CheckContext", "CheckFunc", "CheckResult", "Status",
           "exit_code", "run_check", "run_checks"]

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
