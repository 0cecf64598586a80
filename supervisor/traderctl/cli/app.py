"""The object every command receives: plugin manager and (lazily) the effective config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from traderctl.cli.target import Target
    from traderctl.config import Config, Override
    from traderctl.plugin.manager import PluginManager


class App:
    def __init__(self, pm: PluginManager, env: Mapping[str, str] | None = None) -> None:
        self.pm = pm
        self.env = dict(os.environ if env is None else env)
        self.config_path: str | None = None
        self.overrides: list[Override] = []

    def set_flag(self, key: str, value: Any, flag: str) -> None:
        """A command-line flag that maps to a config key (the highest layer)."""
        from traderctl.config import Override

        if value is not None:
            self.overrides.append(Override(key, str(value), f"flag:{flag}"))
            self.__dict__.pop("config", None)

    def load_config(self, path: str | None = None) -> Config:
        """Load and validate, or raise ConfigError."""
        from traderctl.plugin.sections import load_with_plugins

        return load_with_plugins(self.pm, path or self.config_path, self.env, self.overrides)

    def target(self) -> Target:
        """The running supervisor, found from ``supervisor.*`` alone (see cli/target.py)."""
        from traderctl.cli.target import Target

        return Target(self.config_path, self.env, self.overrides)

    @cached_property
    def config(self) -> Config:
        """The effective config; an invalid one ends the command with exit code 2."""
        from traderctl.config import ConfigError
        from traderctl.logs import add_secrets, configure_logging

        try:
            config = self.load_config()
        except ConfigError as exc:
            exc.report()
            raise click.exceptions.Exit(2) from None
        add_secrets(config.secret_values())
        configure_logging(config.get("logging.level"), config.get("logging.format"))
        return config


pass_app = click.make_pass_decorator(App)
