"""The IB status check end to end: settings, the on/off switch, fetch -> parse -> evaluate.

Existing users switch the check off with ``TRADER_CHECK=False`` in the environment; new ones
with ``checks.ib_status.enabled: false``. Either gives ``disabled`` (and nothing is fetched).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from traderctl.ibstatus.aliases import load_alias_table
from traderctl.ibstatus.fetch import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_TTL,
    DEFAULT_URL,
    fetch_status_page,
)
from traderctl.ibstatus.model import Verdict, VerdictKind
from traderctl.ibstatus.parse import parse_status_page
from traderctl.ibstatus.verdict import (
    evaluate,
    resolve_user_exchanges,
    verdict_for_fetch_failure,
)
from traderctl.logs import get_logger

log = get_logger(__name__)

ENV_SWITCH = "TRADER_CHECK"
_FALSE_WORDS = frozenset({"false", "0", "no", "off", "disabled"})


@dataclass(frozen=True)
class IbStatusSettings:
    """The ``checks.ib_status`` config section (durations in float seconds)."""

    enabled: bool = True
    url: str = DEFAULT_URL
    ttl: float = DEFAULT_TTL
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    exchanges: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> IbStatusSettings:
        """Build from a plain mapping (unknown keys are ignored; the config schema owns them)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known and v is not None}
        if "exchanges" in kwargs:
            kwargs["exchanges"] = tuple(str(x) for x in kwargs["exchanges"])
        if "aliases" in kwargs:
            kwargs["aliases"] = {str(k): str(v) for k, v in dict(kwargs["aliases"]).items()}
        for name in ("ttl", "timeout"):
            if name in kwargs:
                kwargs[name] = float(kwargs[name])
        if "retries" in kwargs:
            kwargs["retries"] = int(kwargs["retries"])
        if "enabled" in kwargs and isinstance(kwargs["enabled"], str):
            kwargs["enabled"] = kwargs["enabled"].strip().casefold() not in _FALSE_WORDS
        elif "enabled" in kwargs:
            kwargs["enabled"] = bool(kwargs["enabled"])
        return cls(**kwargs)


def disabled_reason(enabled: bool, env: Mapping[str, str] | None = None) -> str | None:
    """Why the check is off, or ``None`` when it should run.

    ``TRADER_CHECK`` set to false/0/no/off (any case) disables it, whatever the config says;
    an empty or other value leaves the decision to ``enabled``.
    """
    env = os.environ if env is None else env
    raw = env.get(ENV_SWITCH, "").strip()
    if raw.casefold() in _FALSE_WORDS:
        return f"{ENV_SWITCH}={raw} in the environment"
    if not enabled:
        return "checks.ib_status.enabled is false"
    return None


def check_ib_status(settings: IbStatusSettings | Mapping[str, Any], *,
                    cache_dir: Path | str | None,
                    exchanges: Iterable[str] | None = None,
                    env: Mapping[str, str] | None = None) -> Verdict:
    """Run the whole check. ``exchanges`` is the final list (config + plugins) and replaces
    ``settings.exchanges`` when given; ``cache_dir`` is ``<data_dir>/cache``.
    """
    if not isinstance(settings, IbStatusSettings):
        settings = IbStatusSettings.from_mapping(settings)
    wanted = tuple(settings.exchanges if exchanges is None else exchanges)
    why_off = disabled_reason(settings.enabled, env)
    if why_off:
        return Verdict(VerdictKind.DISABLED, why_off, user_exchanges=wanted)

    table = load_alias_table(settings.aliases, wanted)
    fetch = fetch_status_page(settings.url, cache_dir, settings.ttl, settings.timeout,
                              settings.retries)
    if not fetch.ok or fetch.body is None:
        return verdict_for_fetch_failure(fetch, resolve_user_exchanges(wanted, table))
    page = parse_status_page(fetch.body, table)
    verdict = evaluate(page, wanted, table=table)
    if not page.understood:
        log.warning("ib_status_page_not_understood", url=settings.url, reason=page.reason)
    return replace(verdict, fetch=fetch)
