"""``traderctl supervise``: run the supervisor in the foreground (what systemd starts)."""

from __future__ import annotations

import sys

import click

from traderctl.cli.app import App, pass_app


@click.command("supervise")
@pass_app
def supervise(app: App) -> None:
    """Run the supervisor in the foreground until SIGTERM or Ctrl-C."""
    import asyncio

    from traderctl.cli.target import record_last_good
    from traderctl.daemon.control import ControlSocketError
    from traderctl.daemon.supervisor import Supervisor

    config = app.config  # an invalid config exits 2 here, before anything starts
    supervisor = Supervisor(config, app.pm, reload_config=app.load_config)
    record_last_good(config)  # what the commands fall back on while the file is broken
    try:
        asyncio.run(supervisor.run())
    except ControlSocketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(1) from None

