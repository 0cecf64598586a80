"""Built-in plugin: configuration and plugin inspection commands."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("config", "traderctl.commands.config:config_group",
                 "Show or validate the layered configuration.")
    cli.add_lazy("plugins", "traderctl.commands.plugins:plugins",
                 "List plugins, their hooks and load errors.")
