"""``traderctl check``: run every registered check concurrently, each within its timeout.

Exit codes: 0 all good, 1 a check failed, 3 none failed but one could not tell (offline:
an ``unknown`` result is a check result), 2 only for an invalid configuration, as for every
command.
"""

from __future__ import annotations

from typing import Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json, print_table


def collect_checks(app: App) -> list[Any]:
    checks: list[Any] = []
    app.pm.call_each("register_checks", register=checks.append)
    return checks


EXIT_FAILED = 1
EXIT_UNKNOWN = 3


def exit_code(statuses: set[str]) -> int:
    if "fail" in statuses:
        return EXIT_FAILED
    return EXIT_UNKNOWN if "unknown" in statuses else 0


@click.command("check")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def check(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Run the health checks (all, or NAMES); exit 1 on a failure, 3 when one cannot tell."""
    from traderctl.checks import CheckContext, run_checks
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
    raise click.exceptions.Exit(exit_code({r.status for r in results.values()}))
