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
    commands = {
        "supervise": ("supervise:supervise", "Run the supervisor in the foreground."),
        "status": ("status:status", "Show services and their states."),
        "start": ("control:start", "Start services (clears `failed`)."),
        "stop": ("control:stop", "Stop services (and keep them stopped)."),
        "restart": ("control:restart", "Restart services (clears `failed`)."),
        "reload": ("control:reload", "Apply config changes (same as SIGHUP)."),
        "logs": ("logs:logs", "Print a service's output."),
        "events": ("logs:events", "Print the supervisor's events."),
        "graph": ("graph:graph", "Show the dependency graph with states."),
        "systemd-unit": ("systemd:systemd_unit", "Print a systemd unit for this install."),
    }
    for name, (target, short_help) in commands.items():
        cli.add_lazy(name, f"traderctl.commands.{target}", short_help)
