"""What the daemon commands share: talking to the supervisor and naming its services."""

from __future__ import annotations

from traderctl.cli.target import Target

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from typing import Any


def call(target: Target, cmd: str, **args: Any) -> Any:
    """One request; an unreachable or refusing supervisor ends the command (exit 4 / 1)."""
    from traderctl.daemon.client import call as client_call

    return client_call(target.socket, cmd, **args)


def service_names(target: Target, incomplete: str = "") -> list[str]:
    """For shell completion: the running supervisor's services, else the file's."""
    from traderctl.daemon.client import ControlClient, ControlError, DaemonUnreachable

    try:
        status = ControlClient(target.socket, timeout=1.0).call("status")
        return [s["name"] for s in status["services"]]
    except (DaemonUnreachable, ControlError, OSError):
        pass
    from traderctl.config.loader import find_config_file
    from traderctl.config.yamlfile import load_yaml_file

    file, _ = find_config_file(target.config_path, target.env)
    data = load_yaml_file(file).data if file else None
    services = data.get("services") if isinstance(data, dict) else None
    return [str(n) for n in services] if isinstance(services, dict) else []
