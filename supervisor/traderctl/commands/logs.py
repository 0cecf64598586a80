"""``traderctl logs NAME [-n N] [-f]`` and ``traderctl events [-f] [--json]``."""

from __future__ import annotations

import json

import click

from traderctl.cli.app import App, pass_app
from traderctl.commands.daemon_client import call, stream


@click.command("logs")
@click.argument("name")
@click.option("-n", "lines", default=50, show_default=True, help="Lines of history.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@pass_app
def logs(app: App, name: str, lines: int, follow: bool) -> None:
    """Print a service's output (stdout and stderr, timestamped)."""
    if not follow:
        for line in call(app, "logs", name=name, lines=lines)["lines"]:
            click.echo(line)
        return
    for item in stream(app, "logs", name=name, lines=lines, follow=True):
        if item["event"] == "log_line":
            click.echo(item["text"])
        else:
            click.echo(f"{item['ts']} {item['stream']} {item['line']}")


@click.command("events")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("-n", "limit", default=50, show_default=True, help="Events of history.")
@click.option("--event", "names", multiple=True, help="Only these event names (repeatable).")
@pass_app
def events(app: App, follow: bool, as_json: bool, limit: int, names: tuple[str, ...]) -> None:
    """Print the supervisor's events (state changes, audit records, output lines)."""
    args = {"limit": limit, "events": list(names)}
    items = (stream(app, "events", follow=True, **args) if follow
             else call(app, "events", **args)["events"])
    for item in items:
        click.echo(json.dumps(item) if as_json else _line(item))


def _line(item: dict) -> str:
    rest = " ".join(f"{k}={v}" for k, v in item.items() if k not in ("event", "ts"))
    return f"{item['ts']} {item['event']} {rest}"
