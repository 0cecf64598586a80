"""Built-in plugin: the ``process`` service type, built-in probes and supervisor commands."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_service_types(register: Any) -> None:
    from traderctl.services.types import ServiceType

    register(ServiceType("process", doc="A long-running command."))


@hookimpl
def register_probes(register: Any) -> None:
    from traderctl.services.probes_builtin import builtin_probe_types

    for probe in builtin_probe_types():
        register(probe)


@hookimpl
def register_commands(cli: Any) -> None:
    """The daemon commands are specs (their doc is their help and their listing); the two
    click commands are listed from their own docstrings."""
    from traderctl.cli.fast import DAEMON_COMMANDS, load_spec

    for name in DAEMON_COMMANDS:
        cli.add_spec(load_spec(name))
    cli.add_lazy("supervise", "traderctl.commands.supervise:supervise")
    cli.add_lazy("systemd-unit", "traderctl.commands.systemd:systemd_unit")
