"""``b2c2 ui``: the Textual terminal UI (see traderctl_b2c2.tui)."""

from __future__ import annotations

from decimal import Decimal

import click

from traderctl.cli.app import App, pass_app
from traderctl_b2c2.cli.common import emit_event, rest_client, settings
from traderctl_b2c2.cli.stream import parse_levels


@click.command("ui")
@click.argument("monitors", nargs=-1)
@click.option("--levels", default="1", callback=parse_levels, show_default=True,
              help="Quantities shown by the price monitors.")
@pass_app
def ui(app: App, monitors: tuple[str, ...], levels: list[Decimal]) -> None:
    """Terminal UI: RFQ with countdown and execute, balances, history, price MONITORS."""
    from traderctl_b2c2.feed import PriceFeed
    from traderctl_b2c2.tui import B2C2App

    config = settings(app)
    assert config.api_key is not None
    feed = PriceFeed(config.ws_url, config.api_key, stale_after=config.stale_after,
                     ack_timeout=config.timeout, on_event=emit_event(app))
    with rest_client(config) as client:
        B2C2App(client, feed, list(monitors), levels).run()
