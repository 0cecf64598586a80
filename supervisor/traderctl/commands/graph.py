"""``traderctl graph [--dot]``: the dependency graph with current states."""

from __future__ import annotations

import click

from traderctl.cli.app import App, pass_app
from traderctl.commands.daemon_client import call

COLOURS = {"running": "palegreen", "failed": "salmon", "backoff": "orange",
           "unhealthy": "orange", "waiting": "lightyellow", "starting": "lightblue"}


@click.command("graph")
@click.option("--dot", is_flag=True, help="Graphviz dot for `dot -Tsvg`.")
@pass_app
def graph(app: App, dot: bool) -> None:
    """Show which service waits for which, and where each one is."""
    services = call(app, "graph")["services"]
    if dot:
        click.echo(to_dot(services))
        return
    for service in services:
        deps = ", ".join(service["depends_on"]) or "-"
        click.echo(f"{service['name']} [{service['state']}] <- {deps}")


def to_dot(services: list[dict]) -> str:
    lines = ["digraph traderctl {", "  rankdir=LR;", "  node [shape=box, style=filled];"]
    for s in services:
        colour = COLOURS.get(s["state"], "white")
        lines.append(f'  "{s["name"]}" [label="{s["name"]}\\n{s["state"]}", '
                     f'fillcolor="{colour}"];')
        lines += [f'  "{dep}" -> "{s["name"]}";' for dep in s["depends_on"]]
    lines.append("}")
    return "\n".join(lines)
