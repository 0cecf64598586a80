"""Hook implementations of traderctl-history (the entry module: imports stay light).

Adds the ``register_bar_sources`` hook (:mod:`traderctl_history.hookspecs`) and
registers the ``ib`` and ``polygon`` sources through it; the ``history`` config section,
``traderctl history ...`` (imported only when run) and the ``history.bars``,
``history.bars_small`` and ``history.polygon`` job kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traderctl import hookimpl


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from traderctl_history import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def register_bar_sources(register: Callable[[Any], None]) -> None:
    from traderctl_history.sources import builtin_sources

    for source in builtin_sources():
        register(source)


@hookimpl
def register_config(register: Callable[[Any], None]) -> None:
    from traderctl.config import ConfigSection, Duration, Field, Int, Section, Str
    from traderctl.config.schema import ListOf

    register(ConfigSection("history", Section({
        "storage": Field(Str(), None,
                         "ArcticDB URI (lmdb://..., s3://..., s3s://...; may carry "
                         "credentials). Default: LMDB under <supervisor.data_dir>/history.",
                         secret=True),
        "holidays": Field(ListOf(Str(), allow_string=True), [],
                          "Exchange holidays beyond the ~week IB publishes, "
                          "EXCHANGE:YYYY-MM-DD (or YYYY-MM-DD for every exchange)."),
        "polygon": Section({
            "api_key": Field(Str(), None, "Polygon.io API key (or $POLYGON_API_KEY).",
                             secret=True),
            "url": Field(Str(), "https://api.polygon.io", "Polygon's REST base URL."),
            "rate": Field(Int(min=1), 5, "Requests allowed per `per` (free tier: 5)."),
            "per": Field(Duration(min=0.001), 60.0, "The window of `rate`."),
        }, doc="`history download --source polygon`: Polygon's REST aggregates."),
    }, doc="Historical bars: where they are stored, which days are not asked for.")))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("history", "traderctl_history.cli:history",
                 "Historical bars: download within IB's pacing, status, show, plot.")


@hookimpl
def register_job_kinds(register: Callable[[Any], None]) -> None:
    from traderctl_history.jobs import job_kinds

    for kind in job_kinds():
        register(kind)
