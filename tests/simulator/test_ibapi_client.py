"""A second client nobody here wrote: IB's official Python client (``ibapi-stable``).

It offers API versions 100..226 and gets 178, the simulator's highest; then
the basics over TCP: contract details, historical bars, market data (a
snapshot and a stream) and a market order through to its fill and commission.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.wrapper import EWrapper

from tests.simulator.helpers import open_market

pytestmark = pytest.mark.timeout(30)
WAIT = 10.0


class App(EWrapper, EClient):
    """Every callback the test looks at goes to one queue as (name, values)."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.events: queue.Queue[tuple[str, tuple[Any, ...]]] = queue.Queue()
        self.errors: list[tuple[int, int, str]] = []

    def take(self, name: str, match: Any = None) -> tuple[Any, ...]:
        """Wait for the next ``name`` event (whose first value is ``match``, if given)."""
        skipped: list[tuple[str, tuple[Any, ...]]] = []
        try:
            while True:
                event = self.events.get(timeout=WAIT)
                if event[0] == name and (match is None or event[1][0] == match):
                    return event[1]
                skipped.append(event)
        except queue.Empty:
            raise AssertionError(f"no {name} for {match}; errors {self.errors}") from None
        finally:
            for event in skipped:
                self.events.put(event)

    def collect(self, name: str, end: str, req_id: int) -> list[tuple[Any, ...]]:
        """Every ``name`` event of ``req_id`` until its ``end`` event."""
        found: list[tuple[Any, ...]] = []
        while True:
            event = self.events.get(timeout=WAIT)
            if event[1][:1] != (req_id,):
                self.events.put(event)
                continue
            if event[0] == end:
                return found
            if event[0] == name:
                found.append(event[1])

    def _put(self, name: str, *values: Any) -> None:
        self.events.put((name, values))

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
        self.errors.append((reqId, errorCode, errorString))
        if errorCode not in (2104, 2106, 2107, 2108, 2158):  # farm notices
            self._put("error", reqId, errorCode, errorString)

    def nextValidId(self, orderId):
        self._put("nextValidId", orderId)

    def contractDetails(self, reqId, contractDetails):
        self._put("contractDetails", reqId, contractDetails)

    def contractDetailsEnd(self, reqId):
        self._put("contractDetailsEnd", reqId)

    def historicalData(self, reqId, bar):
        self._put("historicalData", reqId, bar)

    def historicalDataEnd(self, reqId, start, end):
        self._put("historicalDataEnd", reqId, start, end)

    def tickPrice(self, reqId, tickType, price, attrib):
        self._put("tickPrice", reqId, tickType, price)

    def tickSize(self, reqId, tickType, size):
        self._put("tickSize", reqId, tickType, size)

    def tickSnapshotEnd(self, reqId):
        self._put("tickSnapshotEnd", reqId)

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, *rest):
        self._put("orderStatus", orderId, status, filled, remaining, avgFillPrice)

    def execDetails(self, reqId, contract, execution):
        self._put("execDetails", execution.orderId, contract, execution)

    def openOrder(self, orderId, contract, order, orderState):
        self._put("openOrder", orderId, order, orderState.status)

    def openOrderEnd(self):
        self._put("openOrderEnd", None)

    def commissionAndFeesReport(self, commissionAndFeesReport):
        self._put("commission", commissionAndFeesReport.execId, commissionAndFeesReport)


@contextlib.contextmanager
def _client(sim: Any) -> Iterator[App]:
    client = App()
    client.connect(sim.host, sim.port, clientId=7)
    reader = threading.Thread(target=client.run, daemon=True)
    reader.start()
    try:
        yield client
    finally:
        client.disconnect()
        reader.join(WAIT)


@pytest.fixture
def app(sim_tws):
    """On the simulator's exchange calendars (history follows the real sessions)."""
    with _client(sim_tws) as client:
        yield client


@pytest.fixture
def open_app(sim_tws_factory):
    """On a market that trades at any hour (quotes move, orders fill)."""
    with _client(open_market(sim_tws_factory)) as client:
        yield client


def _aapl() -> Contract:
    contract = Contract()
    contract.symbol, contract.secType = "AAPL", "STK"
    contract.exchange, contract.currency = "SMART", "USD"
    return contract


def test_connects_at_version_178(app):
    (order_id,) = app.take("nextValidId")
    assert order_id > 0
    assert app.serverVersion() == 178 and app.isConnected()


def test_contract_details_and_historical_bars(app):
    app.take("nextValidId")
    app.reqContractDetails(1, _aapl())
    [(_, details)] = app.collect("contractDetails", "contractDetailsEnd", 1)
    assert details.contract.conId == 265598 and details.contract.primaryExchange == "NASDAQ"
    assert details.minTick == 0.01 and details.timeZoneId == "US/Eastern"
    app.reqHistoricalData(
        2, _aapl(), "20240105 16:00:00 US/Eastern", "1 D", "1 hour", "TRADES", 1, 1, False, []
    )
    bars = [bar for _, bar in app.collect("historicalData", "historicalDataEnd", 2)]
    assert len(bars) == 7  # 09:30 .. 15:00 on Friday 5 January 2024, regular hours
    assert bars[0].date.startswith("20240105 09:30:00")
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
    assert all(b.volume > 0 for b in bars)


def test_market_data_snapshot_and_stream(open_app):
    app = open_app
    app.take("nextValidId")
    app.reqMktData(3, _aapl(), "", True, False, [])
    snapshot = app.collect("tickPrice", "tickSnapshotEnd", 3)
    prices = {tick_type: price for _, tick_type, price in snapshot}
    assert 0 < prices[1] < prices[2]  # bid < ask
    app.reqMktData(4, _aapl(), "", False, False, [])
    first = app.take("tickPrice", 4)
    again = app.take("tickSize", 4)
    app.cancelMktData(4)
    assert first[2] > 0 and again[2] >= 0


def test_market_order_fills_with_execution_and_commission(open_app):
    app = open_app
    (order_id,) = app.take("nextValidId")
    order = Order()
    order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(5)
    app.placeOrder(order_id, _aapl(), order)
    _, contract, execution = app.take("execDetails", order_id)
    assert contract.symbol == "AAPL" and execution.side == "BOT" and execution.shares == 5
    _, report = app.take("commission", execution.execId)
    assert report.commissionAndFees > 0 and report.currency == "USD"
    while True:
        _, status, filled, remaining, avg = app.take("orderStatus", order_id)
        if status == "Filled":
            break
    assert filled == 5 and remaining == 0 and avg == execution.price


def test_conditional_order_decodes_back_identical(app):
    """The openOrder echo (live, and through reqAllOpenOrders) carries the conditions sent."""
    from ibapi.order_condition import PriceCondition, VolumeCondition

    (order_id,) = app.take("nextValidId")
    price = PriceCondition(2, 265598, "SMART", False, 1.0)
    volume = VolumeCondition(265598, "SMART", True, 2_000_000_000)
    order = Order()
    order.action, order.orderType = "BUY", "LMT"
    order.totalQuantity, order.lmtPrice = Decimal(2), 1.25
    order.conditions = [price.Or(), volume]
    order.conditionsIgnoreRth = True
    app.placeOrder(order_id, _aapl(), order)
    _, live, status = app.take("openOrder", order_id)
    app.reqAllOpenOrders()
    _, listed, _ = app.take("openOrder", order_id)
    app.take("openOrderEnd")

    def shape(o: Order) -> list[Any]:
        return [(type(c).__name__, c.make_fields()) for c in o.conditions]

    assert status == "PreSubmitted"
    for echoed in (live, listed):
        assert shape(echoed) == shape(order)
        assert echoed.conditionsIgnoreRth and echoed.lmtPrice == 1.25
        assert echoed.totalQuantity == 2
