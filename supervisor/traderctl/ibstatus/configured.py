"""The IB status check as traderctl runs it: settings, cache and exchanges from the config.

The ``checks.ib_status`` section gives the settings; the shared cache lives in
``<supervisor.data_dir>/cache`` (so the CLI, ``traderctl check``, scheduled check jobs and the
supervisor's start gate share one fetch per TTL); the user's exchanges are the configured list
plus whatever every plugin returns from the ``ib_status_exchanges`` hook.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traderctl.ibstatus.check import IbStatusSettings, check_ib_status
from traderctl.ibstatus.model import Verdict
from traderctl.logs import get_logger

if TYPE_CHECKING:
    from traderctl.config.loader import Config
    from traderctl.plugin.checktypes import CheckContext, CheckResult
    from traderctl.plugin.manager import PluginManager

log = get_logger(__name__)

HOOK = "ib_status_exchanges"


@dataclass(frozen=True)
class UserExchanges:
    """The merged exchange list, in order, and the plugins whose hook failed."""

    names: tuple[str, ...]
    failed: Mapping[str, str]


def settings_from_config(config: Config) -> IbStatusSettings:
    """``checks.ib_status`` as :class:`IbStatusSettings` (defaults when the section is absent)."""
    return IbStatusSettings.from_mapping(config.get("checks.ib_status") or {})


def cache_dir(config: Config) -> Path:
    """``<supervisor.data_dir>/cache``, shared by every caller of the check."""
    data_dir = config.get("supervisor.data_dir")
    if not data_dir:
        from traderctl.config.sections import default_data_dir

        data_dir = default_data_dir()
    return Path(data_dir) / "cache"


def user_exchanges(config: Config, pm: PluginManager | None = None) -> UserExchanges:
    """``checks.ib_status.exchanges`` plus every plugin's ``ib_status_exchanges(config)``.

    Duplicates (same text, any case) are dropped, order is kept. A plugin whose hook raises or
    returns something that is not a list of names is logged and listed in ``failed``; the
    others still count.
    """
    names: list[str] = []
    _merge(names, config.get("checks.ib_status.exchanges") or [])
    failed: dict[str, str] = {}
    if pm is not None:
        for outcome in pm.outcomes(HOOK, config=config):
            try:
                extra = _exchange_names(outcome.value, outcome.error)
            except Exception as exc:
                failed[outcome.plugin] = f"{type(exc).__name__}: {exc}"
                log.error("plugin_hook_failed", plugin=outcome.plugin, hook=HOOK, error=str(exc))
                continue
            _merge(names, extra)
    return UserExchanges(tuple(names), failed)


def _exchange_names(value: object, error: Exception | None) -> Iterable[str]:
    """One plugin's answer as names; raises its exception, or TypeError for a wrong shape."""
    if error is not None:
        raise error
    if value is None:
        return ()
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable) or not all(isinstance(x, str) for x in value):
        raise TypeError(f"expected a list of exchange names, got {value!r:.60}")
    return value


def configured_verdict(config: Config, pm: PluginManager | None = None,
                       env: Mapping[str, str] | None = None,
                       exchanges: Iterable[str] | None = None) -> Verdict:
    """Run the check with the effective config (blocking: it may fetch over HTTP).

    ``exchanges`` replaces the merged list when the caller already computed it.
    """
    wanted = user_exchanges(config, pm).names if exchanges is None else tuple(exchanges)
    return check_ib_status(settings_from_config(config), cache_dir=cache_dir(config),
                           exchanges=wanted, env=os.environ if env is None else env)


def _merge(into: list[str], names: Iterable[str]) -> None:
    seen = {n.casefold() for n in into}
    for name in names:
        name = str(name).strip()
        if name and name.casefold() not in seen:
            into.append(name)
            seen.add(name.casefold())


def ib_status_check(ctx: CheckContext) -> CheckResult:
    """The ``ib_status`` check of ``traderctl check`` (sync: runs in a worker thread).

    ok -> ok; degraded and maintenance -> warn; problem -> fail; unknown -> unknown;
    disabled -> disabled. A plugin that failed to list its exchanges turns ok into warn: the
    answer may miss an exchange the user trades.
    """
    from traderctl.plugin.checktypes import CheckResult

    exchanges = user_exchanges(ctx.config, ctx.pm)
    verdict = configured_verdict(ctx.config, ctx.pm, exchanges=exchanges.names)
    status = verdict.check_status
    summary = verdict.reason
    if exchanges.failed and status == "ok":
        status = "warn"
        summary += f" (incomplete: {', '.join(sorted(exchanges.failed))} could not list exchanges)"
    details: dict[str, Any] = {
        "verdict": str(verdict.verdict),
        "exchanges": list(verdict.user_exchanges),
        "notices": [{"headline": a.notice.headline, "impact": str(a.impact),
                     "attribution": a.attribution} for a in verdict.relevant_notices],
    }
    if exchanges.failed:
        details["exchange_hook_failures"] = dict(exchanges.failed)
    if verdict.fetch is not None:
        details["fetch"] = verdict.fetch.to_json()
    return CheckResult(status, summary, details)
