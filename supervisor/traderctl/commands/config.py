"""``traderctl config show|check|schema``: the effective configuration and its origins."""

from __future__ import annotations

import sys
from typing import Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json


@click.group("config")
def config_group() -> None:
    """Show or validate the layered configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--origin", is_flag=True, help="Say where every value comes from.")
@pass_app
def show(app: App, as_json: bool, origin: bool) -> None:
    """Print the effective configuration (secrets as ***)."""
    from traderctl.config.schema import format_path

    config = app.config
    if origin:
        rows = [(format_path(p), _shown(config, p, v), o) for p, v, o in config.leaves()]
        if as_json:
            print_json({k: {"value": v, "origin": o} for k, v, o in rows})
        else:
            width = max((len(k) for k, _, _ in rows), default=0)
            for key, value, where in rows:
                print(f"{key.ljust(width)} = {_text(value)}  # {where}")
        return
    if as_json:
        print_json(config.redacted())
    else:
        import yaml

        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

        class Dumper(base):  # type: ignore[valid-type, misc]
            def ignore_aliases(self, data: Any) -> bool:
                return True  # shared defaults are printed in full, never as &id001 / *id001

        sys.stdout.write(yaml.dump(config.redacted(), Dumper=Dumper, sort_keys=False))


def _shown(config: Any, path: Any, value: Any) -> Any:
    from traderctl.config.loader import SECRET_MASK

    return SECRET_MASK if path in config.secret_paths and value not in (None, "") else value


def _text(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


@config_group.command("check")
@click.argument("path", required=False)
@pass_app
def check(app: App, path: str | None) -> None:
    """Validate PATH (or the usual config file); exit 0 when valid, 2 when not."""
    from traderctl.config import ConfigError

    try:
        config = app.load_config(path)
    except ConfigError as exc:
        exc.report()
        raise click.exceptions.Exit(2) from None
    click.echo(f"{config.source or 'built-in defaults'}: ok")


@config_group.command("schema")
@pass_app
def schema(app: App) -> None:
    """Print every key the core and the loaded plugins accept, with its type."""
    import yaml

    from traderctl.plugin.sections import build_schema

    sys.stdout.write(yaml.safe_dump(build_schema(app.pm).sample(), sort_keys=False))
