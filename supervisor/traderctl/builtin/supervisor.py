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
    commands = {"supervise": "supervise:supervise", "status": "status:status",
                "start": "control:start", "stop": "control:stop", "restart": "control:restart",
                "reload": "control:reload", "logs": "logs:logs", "events": "logs:events",
                "graph": "graph:graph", "systemd-unit": "systemd:systemd_unit"}
    for name, target in commands.items():
        cli.add_lazy(name, f"traderctl.commands.{target}")
