"""``traderctl check``: run every registered check concurrently, each within its timeout."""

from __future__ import annotations

from typing import Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json, print_table


def collect_checks(app: App) -> list[Any]:
    checks: list[Any] = []
    app.pm.call_each("register_checks", register=checks.append)
    return checks


@click.command("check")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def check(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Run the health checks (all, or NAMES); exit 1 on a failure, 2 when one cannot tell."""
    from traderctl.checks import CheckContext, exit_code, run_checks
    from traderctl.events import Event

    config = app.config
    checks = collect_checks(app)
    unknown = set(names) - {c.name for c in checks}
    if unknown:
        raise click.BadParameter(f"no such check: {', '.join(sorted(unknown))}")
    selected = [c for c in checks if not names or c.name in names]
    import asyncio

    results = asyncio.run(run_checks(selected, CheckContext(config, app.pm)))
    for name, result in results.items():
        app.pm.notify("on_event", event=Event("check_result", result.to_dict(name)))
    if as_json:
        print_json([r.to_dict(n) for n, r in results.items()])
    else:
        print_table(["check", "status", "summary"],
                    [(n, r.status, r.summary) for n, r in results.items()])
    raise click.exceptions.Exit(exit_code(results))
