"""``traderctl status``: services and their states; exit 0 all up, 3 not, 4 no supervisor."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from traderctl.cli.app import App, pass_app
from traderctl.commands.daemon_client import call
from traderctl.output import print_json, print_table

EXIT_NOT_RUNNING = 3


@click.command("status")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def status(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Show services (all, or NAMES)."""
    result = call(app, "status", names=list(names))
    services = result["services"]
    if as_json:
        print_json(result)
    else:
        now = datetime.now(UTC)
        print_table(["name", "state", "pid", "since", "restarts", "detail"], [
            (s["name"], s["state"], s["pid"] or "-", _age(now, s["since"]), s["restarts"],
             s["detail"]) for s in services])
    if disk := result["supervisor"].get("disk"):
        click.echo(f"warning: {disk['detail']}", err=True)  # a full disk under data_dir
    down = [s for s in services if s["autostart"] and s["state"] != "running"]
    raise click.exceptions.Exit(EXIT_NOT_RUNNING if down else 0)


def _age(now: datetime, since: str) -> str:
    from traderctl.durations import format_duration

    seconds = int((now - datetime.fromisoformat(since)).total_seconds())
    return format_duration(max(seconds, 0)) if seconds else "0s"
