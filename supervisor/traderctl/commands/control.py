"""``traderctl start|stop|restart NAME... [--wait]`` and ``traderctl reload``."""

from __future__ import annotations

import click

from traderctl.cli.app import App, pass_app
from traderctl.commands.daemon_client import call


def _action(name: str, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("names", nargs=-1, required=True)
    @click.option("--wait", is_flag=True, help="Return once the services got there.")
    @click.option("--timeout", default=60.0, show_default=True, help="Seconds to --wait.")
    @pass_app
    def command(app: App, names: tuple[str, ...], wait: bool, timeout: float) -> None:
        states = call(app, name, names=list(names), wait=wait, timeout=timeout)
        for service, state in states.items():
            click.echo(f"{service}: {state}")
    return command


start = _action("start", "Start services (clears `failed`).")
stop = _action("stop", "Stop services (and keep them stopped).")
restart = _action("restart", "Restart services (clears `failed`).")


@click.command("reload")
@pass_app
def reload(app: App) -> None:
    """Re-read the config; restart only services whose spec changed (same as SIGHUP)."""
    result = call(app, "reload")
    for key in ("added", "removed", "restarted"):
        click.echo(f"{key}: {', '.join(result[key]) or '-'}")
