"""``traderctl plugins``: what is loaded, from where, with which hooks, and what failed."""

from __future__ import annotations

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json, print_table


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def plugins(app: App, as_json: bool) -> None:
    """List plugins: name, version, built-in or external, hooks, load errors."""
    rows = []
    for record in app.pm.records.values():
        rows.append({
            "name": record.name, "version": record.version,
            "kind": "builtin" if record.builtin else "external",
            "distribution": record.distribution,
            "hooks": app.pm.hooks_of(record.name),
            "status": "disabled" if record.disabled else ("failed" if record.error else "loaded"),
            "error": record.error,
        })
    if as_json:
        print_json(rows)
        return
    print_table(["name", "version", "kind", "status", "hooks", "error"],
                [(r["name"], r["version"], r["kind"], r["status"], ",".join(r["hooks"]),
                  r["error"]) for r in rows])
