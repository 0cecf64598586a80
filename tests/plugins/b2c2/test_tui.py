"""The terminal UI driven by Textual's pilot against the fake venue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Select, Static

from traderctl_b2c2.feed import PriceFeed
from traderctl_b2c2.rest import RestClient
from traderctl_b2c2.sim import FakeVenue
from traderctl_b2c2.tui import B2C2App


async def until(pilot: Pilot[None], condition: Callable[[], Any], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.02)


def text(app: B2C2App, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def balance(app: B2C2App, currency: str) -> Decimal:
    table = app.query_one("#balances", DataTable)
    return Decimal(str(table.get_row(currency)[1]))


def run_app(venue: FakeVenue, body: Callable[[B2C2App, Pilot[None]], Any],
            monitors: list[str] | None = None) -> B2C2App:
    async def main() -> B2C2App:
        with RestClient(venue.api_url, venue.token) as rest:
            app = B2C2App(rest, PriceFeed(venue.ws_url, venue.token), monitors)
            async with app.run_test(size=(140, 40)) as pilot:
                await until(pilot, lambda: app.query_one("#balances", DataTable).row_count)
                await body(app, pilot)
            return app
    return asyncio.run(main())


def test_quote_counts_down_executes_and_balances_follow(venue: FakeVenue) -> None:
    async def body(app: B2C2App, pilot: Pilot[None]) -> None:
        assert app.query_one("#instrument", Select).value == "BTCUSD.SPOT"
        assert balance(app, "BTC") == 10
        app.query_one("#quantity", Input).value = "0.25"
        await pilot.click("#quote")
        await until(pilot, lambda: app.quote is not None)
        assert "BUY 0.25 BTCUSD.SPOT" in text(app, "#quote-view")
        await until(pilot, lambda: "s left" in text(app, "#countdown"))
        first = text(app, "#countdown")
        await until(pilot, lambda: text(app, "#countdown") != first)
        assert not app.query_one("#execute", Button).disabled
        await pilot.click("#execute")
        await until(pilot, lambda: balance(app, "BTC") == Decimal("10.25"))
        assert "filled at" in text(app, "#message")
        assert [h["event"] for h in app.history] == ["quote", "trade"]
        assert app.query_one("#history", DataTable).row_count == 2
        assert app.query_one("#execute", Button).disabled  # one execution per quote

    run_app(venue, body)


def test_expired_quote_cannot_be_executed() -> None:
    async def body(app: B2C2App, pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.quote is not None)
        await until(pilot, lambda: text(app, "#countdown") == "quote expired")
        assert app.query_one("#execute", Button).disabled
        await pilot.press("x")
        await until(pilot, lambda: "Quote is not valid" in text(app, "#message"))
        assert balance(app, "BTC") == 10 and [h["event"] for h in app.history] == [
            "quote", "error"]

    with FakeVenue(quote_ttl=0.4) as venue:
        run_app(venue, body)


def test_venue_refusal_is_shown_not_raised(venue: FakeVenue) -> None:
    async def body(app: B2C2App, pilot: Pilot[None]) -> None:
        app.query_one("#quantity", Input).value = "0.00001"
        await pilot.click("#quote")
        await until(pilot, lambda: "Too many decimals" in text(app, "#message"))
        assert app.quote is None

    run_app(venue, body)


def test_price_monitors_share_the_feed(venue: FakeVenue) -> None:
    async def body(app: B2C2App, pilot: Pilot[None]) -> None:
        table = app.query_one("#prices", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        app.query_one("#instrument", Select).value = "ETHUSD.SPOT"
        await pilot.click("#monitor")
        await until(pilot, lambda: table.row_count == 2)
        first = table.get_row("ETHUSD.SPOT@1")[3]
        await until(pilot, lambda: table.get_row("ETHUSD.SPOT@1")[3] != first)
        assert sorted(venue.subscriptions()) == [("BTCUSD.SPOT", ("1",)),
                                                 ("ETHUSD.SPOT", ("1",))]

    run_app(venue, body, monitors=["BTCUSD.SPOT"])
