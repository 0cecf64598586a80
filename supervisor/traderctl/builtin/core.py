"""Built-in plugin: configuration and plugin inspection commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl

if TYPE_CHECKING:
    from traderctl.cli.main import LazyGroup



@hookimpl
def register_commands(cli: LazyGroup) -> None:
    cli.add_lazy("config", "traderctl.commands.config:config_group",
                 "Show or validate the layered configuration.")
    cli.add_lazy("plugins", "traderctl.commands.plugins:plugins",
                 "List plugins, their hooks and load errors.")
