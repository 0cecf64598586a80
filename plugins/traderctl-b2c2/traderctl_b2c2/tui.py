"""``b2c2 ui``: a Textual terminal UI over the REST client and the shared price feed.

Left: the RFQ panel (instrument selector, side, quantity; the quote counts down and can
be executed until it expires). Right: balances (refreshed after every trade), live price
monitors (one feed consumer each) and the session's history of quotes and trades.
REST calls run in worker threads so the countdown and the prices keep moving.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from traderctl_b2c2.errors import B2C2Error
from traderctl_b2c2.fanout import Consumer
from traderctl_b2c2.feed import PriceFeed
from traderctl_b2c2.models import Order, Price, Quote
from traderctl_b2c2.rest import RestClient

CSS = """
#left { width: 50; padding: 0 1; }
#buttons { height: 3; }
#buttons Button { min-width: 12; margin-right: 1; }
#right { padding: 0 1; }
#quote-view { height: 4; border: round $accent; }
#countdown { height: 1; text-style: bold; }
#message { height: 2; color: $warning; }
DataTable { height: 1fr; }
Label.title { text-style: bold; margin-top: 1; }
"""


class B2C2App(App[None]):
    TITLE = "traderctl b2c2"
    CSS = CSS
    BINDINGS = [("q", "quit", "Quit"), ("r", "request_quote", "Quote"),
                ("x", "execute", "Execute"), ("m", "monitor", "Monitor")]

    def __init__(self, rest: RestClient, feed: PriceFeed, monitors: list[str] | None = None,
                 levels: list[Decimal] | None = None) -> None:
        super().__init__()
        self.rest, self.feed = rest, feed
        self.initial_monitors = monitors or []
        self.levels = levels or [Decimal(1)]
        self.quote: Quote | None = None
        self.consumers: dict[str, Consumer] = {}
        self.history: list[dict[str, Any]] = []
        self._stamps: dict[str, datetime] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield Label("Instrument", classes="title")
                yield Select[str]([], id="instrument", prompt="instrument")
                yield Select[str]([("buy", "buy"), ("sell", "sell")], id="side",
                                  value="buy", allow_blank=False)
                yield Input("1", id="quantity", placeholder="quantity (max 4 decimals)")
                with Horizontal(id="buttons"):
                    yield Button("Quote", id="quote", variant="primary")
                    yield Button("Execute", id="execute", variant="success", disabled=True)
                    yield Button("Monitor", id="monitor")
                yield Static("no quote", id="quote-view")
                yield Static("", id="countdown")
                yield Static("", id="message")
                yield Label("Balances", classes="title")
                yield DataTable(id="balances", cursor_type="none")
            with Vertical(id="right"):
                yield Label("Prices", classes="title")
                yield DataTable(id="prices", cursor_type="none")
                yield Label("Session history", classes="title")
                yield DataTable(id="history", cursor_type="none")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#balances", DataTable).add_columns("currency", "balance")
        self.query_one("#prices", DataTable).add_columns(
            "instrument", "level", "sell (bid)", "buy (ask)", "age", "dropped")
        self.query_one("#history", DataTable).add_columns(
            "time", "event", "instrument", "side", "quantity", "price", "id")
        self.set_interval(0.1, self.tick)
        await self.feed.start()
        self.run_worker(self.load_reference(), group="rest")
        for name in self.initial_monitors:
            self.run_worker(self.add_monitor(name), group="monitors")

    async def on_unmount(self) -> None:
        for consumer in list(self.consumers.values()):
            await consumer.close()
        await self.feed.close()

    # -- REST, in threads ---------------------------------------------------------------

    async def call(self, func: Any, *args: Any) -> Any:
        """A blocking client call in a thread; a venue refusal is shown, not raised."""
        try:
            return await asyncio.to_thread(func, *args)
        except B2C2Error as exc:
            self.say(str(exc))
            self.record("error", "", "", "", "", exc.code or exc.status or "")
            return None

    async def load_reference(self) -> None:
        instruments = await self.call(self.rest.instruments)
        if instruments is not None:
            select = self.query_one("#instrument", Select)
            select.set_options([(i.name, i.name) for i in instruments.root])
            if instruments.root:
                select.value = instruments.root[0].name
        await self.refresh_balances()

    async def refresh_balances(self) -> None:
        balances = await self.call(self.rest.balance)
        if balances is None:
            return
        table = self.query_one("#balances", DataTable)
        table.clear()
        for currency, amount in sorted(balances.root.items()):
            table.add_row(currency, f"{amount.normalize():f}", key=currency)

    def action_request_quote(self) -> None:
        self.run_worker(self.request_quote(), group="rest", exclusive=True)

    @on(Button.Pressed, "#quote")
    def quote_pressed(self) -> None:
        self.action_request_quote()

    async def request_quote(self) -> None:
        instrument = self.query_one("#instrument", Select).value
        side = self.query_one("#side", Select).value
        if not isinstance(instrument, str) or side not in ("buy", "sell"):
            self.say("choose an instrument first")
            return
        try:
            quantity = Decimal(self.query_one("#quantity", Input).value)
        except InvalidOperation:
            self.say("quantity is not a number")
            return
        quote = await self.call(self.rest.rfq, instrument, side, quantity)
        if quote is not None:
            self.quote = quote
            self.say("")
            self.query_one("#quote-view", Static).update(
                f"{quote.side.upper()} {quote.quantity} {quote.instrument}\n"
                f"price {quote.price}  notional {quote.notional:f}\n"
                f"rfq {quote.rfq_id[:8]}  until "
                f"{quote.valid_until.time().isoformat(timespec='milliseconds')} UTC")
            self.record("quote", quote.instrument, quote.side, quote.quantity, quote.price,
                        quote.rfq_id)
            self.tick()

    def action_execute(self) -> None:
        self.run_worker(self.execute(), group="rest", exclusive=True)

    @on(Button.Pressed, "#execute")
    def execute_pressed(self) -> None:
        self.action_execute()

    async def execute(self) -> None:
        quote = self.quote
        if quote is None:
            return
        self.quote = None  # one execution per quote
        order: Order | None = await self.call(quote.execute)
        self.tick()
        if order is None:
            return
        if order.filled:
            self.say(f"filled at {order.executed_price}")
            self.record("trade", order.instrument, order.side, order.quantity,
                        order.executed_price, order.trades[0].trade_id if order.trades
                        else order.order_id)
        else:
            self.say("not filled: the FOK order was rejected")
            self.record("rejected", order.instrument, order.side, order.quantity,
                        order.price, order.order_id)
        await self.refresh_balances()

    # -- countdown and history ------------------------------------------------------------

    def tick(self) -> None:
        try:
            countdown = self.query_one("#countdown", Static)
            button = self.query_one("#execute", Button)
        except NoMatches:  # a timer firing while the app shuts down
            return
        if self.quote is None:
            countdown.update("")
            button.disabled = True
        elif self.quote.expired():
            countdown.update("quote expired")
            button.disabled = True
        else:
            countdown.update(f"{self.quote.time_left().total_seconds():.1f}s left")
            button.disabled = False
        self.refresh_ages()

    def record(self, event: str, instrument: str, side: str, quantity: Any, price: Any,
               ident: Any) -> None:
        now = datetime.now(UTC)
        self.history.append({"time": now, "event": event, "instrument": instrument,
                             "side": side, "quantity": quantity, "price": price,
                             "id": ident})
        self.query_one("#history", DataTable).add_row(
            f"{now:%H:%M:%S}", event, instrument, side, str(quantity), str(price), str(ident))

    def say(self, text: str) -> None:
        self.query_one("#message", Static).update(text)

    # -- price monitors -------------------------------------------------------------------

    def action_monitor(self) -> None:
        instrument = self.query_one("#instrument", Select).value
        if isinstance(instrument, str) and instrument not in self.consumers:
            self.run_worker(self.add_monitor(instrument), group="monitors")

    @on(Button.Pressed, "#monitor")
    def monitor_pressed(self) -> None:
        self.action_monitor()

    async def add_monitor(self, instrument: str) -> None:
        try:
            consumer = await self.feed.subscribe(instrument, self.levels, queue_size=1)
        except (B2C2Error, TimeoutError) as exc:
            self.say(f"{instrument}: {exc}")
            return
        self.consumers[instrument] = consumer
        try:
            async for price in consumer:
                self.show_price(price, consumer.dropped)
        except B2C2Error as exc:
            self.say(f"{instrument}: {exc}")

    def show_price(self, price: Price, dropped: int) -> None:
        try:
            table = self.query_one("#prices", DataTable)
        except NoMatches:  # a frame arriving while the app shuts down
            return
        for bid, ask in zip(price.levels.sell, price.levels.buy, strict=False):
            key = f"{price.instrument}@{ask.quantity}"
            cells = (price.instrument, str(ask.quantity), str(bid.price), str(ask.price),
                     "0.0s", str(dropped))
            if key in table.rows:
                for column, value in zip(table.columns, cells, strict=False):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
        self._stamps[price.instrument] = price.timestamp

    def refresh_ages(self) -> None:
        table = self.query_one("#prices", DataTable)  # called from tick(): mounted
        columns = list(table.columns)
        now = datetime.now(UTC)
        for key in list(table.rows):
            instrument = str(key.value).split("@")[0]
            stamp = self._stamps.get(instrument)
            if stamp is not None and len(columns) > 4:
                table.update_cell(key, columns[4], f"{(now - stamp).total_seconds():.1f}s")
