"""``b2c2 stream``: live prices, a table on a terminal, JSON lines otherwise."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from traderctl.cli.app import App, pass_app
from traderctl_b2c2.cli.common import emit_event, settings, venue_errors

if TYPE_CHECKING:
    from traderctl_b2c2.config import Settings
    from traderctl_b2c2.fanout import Consumer
    from traderctl_b2c2.models import Price


def parse_levels(ctx: click.Context, param: click.Parameter, value: str) -> list[Decimal]:
    try:
        levels = [Decimal(part) for part in value.split(",") if part.strip()]
    except ArithmeticError:
        raise click.BadParameter(f"{value!r}: expected quantities like 1,3") from None
    if not levels or any(q <= 0 for q in levels):
        raise click.BadParameter(f"{value!r}: expected positive quantities like 1,3")
    return levels


@click.command("stream")
@click.argument("instruments", nargs=-1, required=True)
@click.option("--levels", default="1", callback=parse_levels, show_default=True,
              help="Comma-separated quantities (base currency), one price per level.")
@click.option("--count", type=click.IntRange(1), help="Stop after N price frames.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines (default when not a tty).")
@pass_app
def stream(app: App, instruments: tuple[str, ...], levels: list[Decimal], count: int | None,
           as_json: bool) -> None:
    """Live prices for INSTRUMENTS (e.g. BTCUSD.SPOT) at the given levels."""
    config = settings(app)
    table = sys.stdout.isatty() and not as_json
    with venue_errors():
        try:
            asyncio.run(_stream(config, app, list(instruments), levels, count, table))
        except KeyboardInterrupt:
            pass


async def _stream(config: Settings, app: App, instruments: list[str], levels: list[Decimal],
                  count: int | None, table: bool) -> None:
    from traderctl_b2c2.feed import PriceFeed

    assert config.api_key is not None
    latest: dict[str, Price] = {}
    queue: asyncio.Queue[Price] = asyncio.Queue(maxsize=1000)
    async with PriceFeed(config.ws_url, config.api_key, stale_after=config.stale_after,
                         ack_timeout=config.timeout, on_event=emit_event(app)) as feed:
        await feed.wait_connected(config.timeout)
        consumers = [await feed.subscribe(name, levels) for name in instruments]
        pumps = [asyncio.create_task(_pump(c, queue)) for c in consumers]
        try:
            seen = 0
            while count is None or seen < count:
                price = await queue.get()
                seen += 1
                latest[price.instrument] = price
                _draw(latest) if table else _line(price)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for consumer in consumers:
                await consumer.close()


async def _pump(consumer: Consumer, queue: asyncio.Queue[Price]) -> None:
    while True:
        await queue.put(await consumer.get())


def _line(price: Price) -> None:
    sys.stdout.write(json.dumps(price.model_dump(mode="json")) + "\n")
    sys.stdout.flush()


def _draw(latest: dict[str, Price]) -> None:
    from traderctl.output import format_table

    rows = []
    for name, price in sorted(latest.items()):
        for bid, ask in zip(price.levels.sell, price.levels.buy, strict=False):
            rows.append([name, ask.quantity, bid.price, ask.price,
                         price.timestamp.isoformat(timespec="milliseconds")])
    sys.stdout.write("\x1b[H\x1b[J" + format_table(
        ["instrument", "level", "sell (bid)", "buy (ask)", "timestamp"], rows) + "\n")
    sys.stdout.flush()
