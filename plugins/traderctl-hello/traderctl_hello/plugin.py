"""Hook implementations of the example plugin; copy this file to start your own.

Module import stays light: traderctl imports every plugin at each start-up,
so anything heavier than click is imported inside the function that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from traderctl import hookimpl
from traderctl.cli.app import App, pass_app

if TYPE_CHECKING:
    from traderctl.checks import Check, CheckContext, CheckResult
    from traderctl.cli.main import LazyGroup
    from traderctl.config import ConfigSection


@hookimpl
def register_config(register: Callable[[ConfigSection], None]) -> None:
    from traderctl.config import ConfigSection, Field, Section, Str

    register(ConfigSection("hello", Section({
        "greeting": Field(Str(), "Hello", "How the hello command greets."),
    }, doc="Example plugin settings.")))


@click.command("hello")
@click.argument("name", default="trader")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def hello(app: App, name: str, as_json: bool) -> None:
    """Greet NAME with the configured greeting (example plugin command)."""
    from traderctl.logs import get_logger
    from traderctl.output import print_json

    greeting = app.config.get("hello.greeting")
    get_logger(__name__).debug("hello_greeted", name=name)
    if as_json:
        print_json({"greeting": greeting, "name": name})
    else:
        click.echo(f"{greeting}, {name}!")


@hookimpl
def register_commands(cli: LazyGroup) -> None:
    cli.add_command(hello)


@hookimpl
def register_checks(register: Callable[[Check], None]) -> None:
    from traderctl.checks import Check

    register(Check("hello", greeting_configured, "Example check from the hello plugin."))


def greeting_configured(ctx: CheckContext) -> CheckResult:
    from traderctl.checks import CheckResult

    greeting = ctx.config.get("hello.greeting")
    if not greeting:
        return CheckResult("fail", "hello.greeting is empty")
    return CheckResult("ok", f"greeting is {greeting!r}")
