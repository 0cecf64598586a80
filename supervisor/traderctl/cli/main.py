"""Entry point of the ``traderctl`` console script.

Plugins are loaded before arguments are parsed so their commands show in
``--help``; configuration is loaded only by commands that need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from traderctl import __version__
from traderctl.cli.app import App
from traderctl.cli.spec import CommandSpec, to_click
from traderctl.logs import LEVELS, configure_logging
from traderctl.plugin.manager import PluginLoadError, PluginManager, build_plugin_manager


class LazyGroup(click.Group):
    """A group whose commands can be named now and imported when used.

    Built-in commands are registered with :meth:`add_lazy` so that ``traderctl status``
    imports the status module only, not all twenty (click's "lazily loading subcommands").
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}
        self.specs: dict[str, CommandSpec] = {}

    def add_lazy(self, name: str, target: str, short_help: str = "") -> None:
        """``target`` is ``"module:attribute"`` of a click command; ``short_help`` is what
        ``--help`` lists, so that listing imports none of them."""
        self.lazy[name] = (target, short_help)

    def add_spec(self, spec: CommandSpec) -> None:
        """A command described by a :class:`~traderctl.cli.spec.CommandSpec`: listed with
        its own short help, built into a click command when used."""
        self.specs[spec.name] = spec

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.specs and name not in self.commands:
                rows.append((name, self.specs[name].short_help))
            elif name in self.commands or not self.lazy[name][1]:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 20)))
            else:
                rows.append((name, self.lazy[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy, *self.specs})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.specs:
            self.add_command(to_click(self.specs[name]), name)
        elif name not in self.commands and name in self.lazy:
            import importlib

            module, _, attr = self.lazy[name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


def build_cli(pm: PluginManager) -> click.Group:
    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="traderctl")
    @click.option("--config", "config_path", metavar="PATH", envvar=None,
                  help="Config file (default: $TRADERCTL_CONFIG, ./configs/trader.yaml, "
                       "/etc/traderctl/trader.yaml).")
    @click.option("--socket", metavar="PATH",
                  help="Control socket of the supervisor (overrides supervisor.socket; "
                       "works while the config file is broken).")
    @click.option("--set", "-o", "settings", multiple=True, metavar="KEY=VALUE",
                  help="Override a config key, e.g. --set ib.port=4002 (repeatable).")
    @click.option("--log-level", type=click.Choice(LEVELS), help="Overrides logging.level.")
    @click.option("--log-format", type=click.Choice(["auto", "json", "console"]),
                  help="Overrides logging.format (auto: JSON unless stderr is a terminal).")
    @click.pass_obj
    def cli(app: App, config_path: str | None, socket: str | None, settings: tuple[str, ...],
            log_level: str | None, log_format: str | None) -> None:
        """traderctl: supervise TWS / IB Gateway and the services around it."""
        app.config_path = config_path
        app.set_flag("supervisor.socket", socket, "--socket")
        for item in settings:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
            app.set_flag(key.strip(), value, "--set")
        app.set_flag("logging.level", log_level, "--log-level")
        app.set_flag("logging.format", log_format, "--log-format")
        configure_logging(log_level or env_level(app.env), log_format or "auto")

    pm.call_each("register_commands", cli=cli)
    return cli


def env_level(env: Mapping[str, str]) -> str:
    """The log level before the config is read (plugin loading logs too)."""
    level = env.get("TRADERCTL_LOGGING__LEVEL", "info").lower()
    return level if level in LEVELS else "info"


def main(argv: list[str] | None = None) -> None:
    configure_logging(env_level(os.environ))
    try:
        pm = build_plugin_manager()
        cli = build_cli(pm)
    except PluginLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    cli.main(args=argv, prog_name="traderctl", obj=App(pm))
