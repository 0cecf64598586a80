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
    from traderctl.commands import control, graph, logs, status, supervise, systemd

    for command in (supervise.supervise, status.status, control.start, control.stop,
                    control.restart, control.reload, logs.logs, logs.events, graph.graph,
                    systemd.systemd_unit):
        cli.add_command(command)
