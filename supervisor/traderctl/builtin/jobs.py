"""Built-in plugin: the batch-job engine's hook, its ``jobs`` config section and commands."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from traderctl.jobs import spec

    pm.add_hookspecs(spec)


@hookimpl
def register_config(register: Any) -> None:
    from traderctl.jobs.settings import jobs_section

    register(jobs_section())


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("jobs", "traderctl.commands.jobs:jobs_group",
                 "The batch-job queue and its worker.")
