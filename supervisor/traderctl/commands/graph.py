"""``traderctl graph [--dot]``: the dependency graph with current states."""

from __future__ import annotations

from traderctl.cli.spec import CommandSpec, Opt
from traderctl.cli.target import Target
from traderctl.commands.remote import call

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from typing import Any


COLOURS = {"running": "palegreen", "failed": "salmon", "backoff": "orange",
           "unhealthy": "orange", "waiting": "lightyellow", "starting": "lightblue"}


def run(target: Target, dot: bool) -> int:
    services = call(target, "graph")["services"]
    print(to_dot(services) if dot else to_text(services))
    return 0


def to_text(services: list[dict[str, Any]]) -> str:
    """One line per service; ``<- a, b`` names what it depends on (nothing for none)."""
    lines = []
    for service in services:
        line = f"{service['name']} [{service['state']}]"
        if service["depends_on"]:
            line += " <- " + ", ".join(service["depends_on"])
        lines.append(line)
    return "\n".join(lines)


def to_dot(services: list[dict[str, Any]]) -> str:
    lines = ["digraph traderctl {", "  rankdir=LR;", "  node [shape=box, style=filled];"]
    for s in services:
        colour = COLOURS.get(s["state"], "white")
        lines.append(f'  "{s["name"]}" [label="{s["name"]}\\n{s["state"]}", '
                     f'fillcolor="{colour}"];')
        lines += [f'  "{dep}" -> "{s["name"]}";' for dep in s["depends_on"]]
    lines.append("}")
    return "\n".join(lines)


graph = CommandSpec("graph", """Show the dependency graph with states.

One line per service with what it depends on; --dot for Graphviz.""", run, (
    Opt("dot", ("--dot",), bool, False, "Graphviz dot for `dot -Tsvg`."),
))
