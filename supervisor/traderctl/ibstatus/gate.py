"""The supervisor's start gate: hold ``tws`` starts while IB reports a platform-wide problem.

Starting TWS while IB's login servers are down only burns the start limit and may lock the
account after repeated failed logins. The ``tws`` service driver asks
:func:`platform_hold_reason` before each start (in a worker thread: it may fetch over HTTP,
through the shared cache, so at most one fetch per TTL whatever the number of callers).

Only a ``problem`` attributed to a critical platform-wide system (login, TWS / IB Gateway,
market data, order routing, API) holds a start. A problem on an exchange, even one the user
trades, does not: TWS itself can still run. Uncertainty never blocks: an unknown verdict (IB's
page unreachable or not understood), a disabled check, ``checks.ib_status.gate: false`` or any
error inside the gate all give ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traderctl.ibstatus.model import AssessedNotice, Impact, Verdict, VerdictKind
from traderctl.logs import get_logger

log = get_logger(__name__)

SYSTEM_PREFIX = "system:"


def platform_hold_reason(config: Any, *, env: Mapping[str, str] | None = None) -> str | None:
    """Why a ``tws`` start should wait, or ``None`` to go ahead. Blocking; never raises.

    ``config`` is the effective :class:`traderctl.config.Config` (anything with
    ``get("a.b.c")``); ``env`` defaults to ``os.environ`` (``TRADER_CHECK=False`` disables).
    The reason reads like ``IB reports a platform-wide problem: Login problems [system:login]``.
    """
    try:
        if not config.get("checks.ib_status.gate", True):
            return None
        from traderctl.ibstatus.configured import configured_verdict

        # Exchanges do not matter here: only platform-wide systems hold a start.
        verdict = configured_verdict(config, None, env, exchanges=())
    except Exception as exc:  # never block a start on our own failure
        log.warning("ib_status_gate_error", error=f"{type(exc).__name__}: {exc}")
        return None
    return hold_reason_for(verdict)


def hold_reason_for(verdict: Verdict) -> str | None:
    """The hold reason a verdict gives (``None`` unless a platform-wide system has a problem)."""
    if verdict.verdict is not VerdictKind.PROBLEM:
        return None
    platform = [a for a in verdict.relevant_notices if _platform_problem(a)]
    if not platform:
        return None
    heads = "; ".join(f"{a.notice.headline or '(no headline)'} [{a.attribution}]"
                      for a in platform)
    return f"IB reports a platform-wide problem: {heads}"


def _platform_problem(assessed: AssessedNotice) -> bool:
    return assessed.impact is Impact.PROBLEM and assessed.attribution.startswith(SYSTEM_PREFIX)
