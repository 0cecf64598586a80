"""Hook implementations of traderctl-history (the entry module: imports stay light).

The ``history`` config section, ``traderctl history ...`` (imported only when run) and
the ``history.bars``/``history.bars_small`` job kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traderctl import hookimpl


@hookimpl
def register_config(register: Callable[[Any], None]) -> None:
    from traderctl.config import ConfigSection, Field, Section, Str
    from traderctl.config.schema import ListOf

    register(ConfigSection("history", Section({
        "storage": Field(Str(), None,
                         "ArcticDB URI (lmdb://..., s3://..., s3s://...; may carry "
                         "credentials). Default: LMDB under <supervisor.data_dir>/history.",
                         secret=True),
        "holidays": Field(ListOf(Str(), allow_string=True), [],
                          "Exchange holidays beyond the ~week IB publishes, "
                          "EXCHANGE:YYYY-MM-DD (or YYYY-MM-DD for every exchange)."),
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
