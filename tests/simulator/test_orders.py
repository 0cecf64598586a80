"""placeOrder with conditions, the simulator's order record, cancel."""

from __future__ import annotations

import asyncio

import pytest
from ib_async import LimitOrder, MarketOrder, PriceCondition, Stock, TimeCondition

from tests.simulator.helpers import ErrorLog, connected, run

pytestmark = pytest.mark.timeout(20)


async def _status(trade, wanted: str, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while trade.orderStatus.status != wanted and loop.time() < deadline:
        await asyncio.sleep(0.01)
    assert trade.orderStatus.status == wanted


def test_conditional_order_seen_on_both_sides_then_cancelled(sim_tws):
    conditions = [
        PriceCondition(isMore=False, price=1.0, conId=265598, exch="SMART", triggerMethod=2),
        TimeCondition(isMore=True, time="20991231 15:30:00 US/Eastern").Or(),
    ]

    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            order = LimitOrder("BUY", 10, 150.25, conditions=conditions, conditionsIgnoreRth=True)
            trade = ib.placeOrder(aapl, order)
            await _status(trade, "PreSubmitted")
            assert trade.order.permId > 0 and trade.orderStatus.remaining == 10
            [open_trade] = await ib.reqAllOpenOrdersAsync()
            assert (
                open_trade.order.conditions == conditions and open_trade.order.conditionsIgnoreRth
            )
            ib.cancelOrder(order)
            await _status(trade, "Cancelled")
            await errors.wait_for(202)
            return order.orderId

    order_id = run(body())
    [rec] = sim_tws.orders
    assert rec.order_id == order_id and rec.client_id == 1 and rec.con_id == 265598
    assert (
        rec.order["action"],
        float(rec.order["totalQuantity"]),
        rec.order["orderType"],
        float(rec.order["lmtPrice"]),
    ) == ("BUY", 10.0, "LMT", 150.25)
    assert [c["type"] for c in rec.conditions] == ["Price", "Time"]
    assert rec.conditions[0] == {
        "type": "Price",
        "condType": 1,
        "conjunction": "a",
        "isMore": "0",
        "price": "1.0",
        "conId": "265598",
        "exch": "SMART",
        "triggerMethod": "2",
    }
    assert (
        rec.conditions[1]["time"] == "20991231 15:30:00 US/Eastern"
        and rec.conditions[1]["conjunction"] == "o"
    )
    assert rec.conditions_ignore_rth and not rec.conditions_cancel_order
    assert rec.status_history == ["PreSubmitted", "Cancelled"]


def test_plain_order_submitted_and_time_condition_released(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            [spy] = await ib.qualifyContractsAsync(Stock("SPY", "SMART", "USD"))
            plain = ib.placeOrder(spy, LimitOrder("SELL", 5, 99_999.0))  # rests, never fills
            await _status(plain, "Submitted")
            past = TimeCondition(isMore=True, time="20200101 09:30:00 US/Eastern")
            timed = ib.placeOrder(
                spy, LimitOrder("BUY", 1, 10.0, conditions=[past], conditionsIgnoreRth=True)
            )
            await _status(timed, "Submitted")  # released by the condition monitor
            held = ib.placeOrder(
                spy,
                LimitOrder(
                    "BUY",
                    1,
                    10.0,
                    conditions=[TimeCondition(isMore=True, time="20991231 09:30:00 US/Eastern")],
                    conditionsIgnoreRth=True,
                ),
            )
            await _status(held, "PreSubmitted")
            assert sim_tws.trigger_order(held.order.orderId)
            await _status(held, "Submitted")

    run(body())
    assert [r.status for r in sim_tws.orders] == ["Submitted", "Submitted", "Submitted"]


def test_unknown_cancel_and_unknown_contract(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            trade = ib.placeOrder(Stock("NOSUCH", "SMART", "USD"), MarketOrder("BUY", 1))
            await _status(trade, "Cancelled")
            assert 200 in errors.codes()

    run(body())


def test_cached_open_order_frame_equals_the_full_encoding(sim_tws):
    """openOrder is sent from parts encoded once per order; any status, any version."""
    from traderctl.simulator.protocol import encode_message

    cond = PriceCondition(isMore=False, price=1.0, conId=265598, exch="SMART", triggerMethod=2)

    async def body():
        async with connected(sim_tws) as ib:
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            trade = ib.placeOrder(
                aapl, LimitOrder("BUY", 3, 1.5, conditions=[cond], orderRef="cache", tif="GTC")
            )
            await _status(trade, "PreSubmitted")

    run(body())
    [rec] = sim_tws.orders
    book = sim_tws.sim.order_book
    for status in ("PreSubmitted", "Submitted", "Filled", "Cancelled"):
        rec.status = status
        for version in (176, 177, 178):
            full = encode_message(book.open_order_fields(rec, version))
            assert book.open_order_frame(rec, version) == full, (status, version)
