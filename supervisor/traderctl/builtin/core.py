"""Built-in plugin: configuration and plugin inspection commands."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from traderctl.commands.config import config_group
    from traderctl.commands.plugins import plugins

    cli.add_command(config_group)
    cli.add_command(plugins)
