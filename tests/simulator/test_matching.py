"""The matching engine through ib_async: fills, executions, commissions, account, brackets."""

from __future__ import annotations

import asyncio

import pytest
from ib_async import (
    ExecutionCondition,
    LimitOrder,
    MarketOrder,
    Order,
    PriceCondition,
    Stock,
    StopOrder,
)

from tests.simulator.helpers import ErrorLog, apply, connected, open_market, run, until

pytestmark = pytest.mark.timeout(20)
AAPL = Stock("AAPL", "SMART", "USD")
MSFT = Stock("MSFT", "SMART", "USD")


async def _status(trade, wanted: str, timeout: float = 3.0) -> None:
    await until(lambda: trade.orderStatus.status == wanted, timeout)


def test_market_order_fills_at_the_touch_with_execution_and_commission(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            [ticker] = await ib.reqTickersAsync(aapl)
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 100))
            await _status(trade, "Filled")
            await until(lambda: trade.fills and trade.fills[-1].commissionReport.commission > 0)
            await until(lambda: any(p.position == 100 for p in ib.positions()))
            summary = {
                v.tag: float(v.value)
                for v in await ib.accountSummaryAsync()
                if v.tag in ("TotalCashValue", "NetLiquidation", "GrossPositionValue")
            }
            fills = await ib.reqExecutionsAsync()
            return ticker, trade, summary, fills

    ticker, trade, summary, fills = run(body())
    fill = trade.fills[0]
    assert trade.orderStatus.filled == 100 and trade.orderStatus.remaining == 0
    assert trade.orderStatus.avgFillPrice == fill.execution.price
    assert fill.execution.side == "BOT" and fill.execution.shares == 100
    assert abs(fill.execution.price - ticker.ask) < ticker.ask * 0.01
    # tiered: 100 * 0.0035 = 0.35 (the minimum) + clearing 0.02 + exchange fee 0.30
    assert fill.commissionReport.commission == pytest.approx(0.67)
    cost = 100 * fill.execution.price + 0.67
    assert summary["TotalCashValue"] == pytest.approx(1_000_000 - cost, abs=0.01)
    assert summary["GrossPositionValue"] > 0
    assert [f.execution.execId for f in fills] == [fill.execution.execId]


def test_limit_rests_until_crossed_and_modification(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            resting = ib.placeOrder(aapl, LimitOrder("BUY", 10, 150.0))
            sell = ib.placeOrder(aapl, LimitOrder("SELL", 5, 260.0))
            await _status(resting, "Submitted")
            await asyncio.sleep(0.2)
            assert resting.orderStatus.filled == 0
            await apply(sim, "price", {"symbol": "AAPL", "price": "149"})
            await _status(resting, "Filled")
            sell.order.lmtPrice = 140.0  # modify: now marketable
            ib.placeOrder(aapl, sell.order)
            await _status(sell, "Filled")
            return resting, sell

    resting, sell = run(body())
    assert resting.orderStatus.avgFillPrice <= 150.0
    assert sell.orderStatus.avgFillPrice >= 140.0 and sell.orderStatus.filled == 5
    assert [r.order["lmtPrice"] for r in sim.orders if r.order_id == sell.order.orderId] == [
        "140.0"
    ]


def test_stop_triggers_on_a_gap_and_partial_fills_by_depth(sim_tws_factory):
    sim = open_market(sim_tws_factory, depth=100)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            stop = ib.placeOrder(aapl, StopOrder("SELL", 250, 190.0))
            await asyncio.sleep(0.2)
            assert stop.orderStatus.status == "Submitted" and stop.orderStatus.filled == 0
            await apply(sim, "gap", {"symbol": "AAPL", "percent": "-10"})
            await _status(stop, "Filled")
            return stop

    stop = run(body())
    assert [f.execution.shares for f in stop.fills] == [100, 100, 50]
    assert [f.execution.cumQty for f in stop.fills] == [100, 200, 250]
    assert stop.orderStatus.avgFillPrice < 190.0


def test_bracket_parent_fill_activates_children_and_oca_cancels(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            parent, take, stop = ib.bracketOrder("BUY", 10, 201.0, 220.0, 180.0)
            trades = [ib.placeOrder(aapl, o) for o in (parent, take, stop)]
            await _status(trades[0], "Filled")
            await _status(trades[1], "Submitted")
            await _status(trades[2], "Submitted")
            await apply(sim, "price", {"symbol": "AAPL", "price": "221"})
            await _status(trades[1], "Filled")
            await _status(trades[2], "Cancelled")
            return trades

    _parent, take, stop = run(body())
    assert take.orderStatus.avgFillPrice >= 220.0 and stop.orderStatus.filled == 0


def test_a_partial_fill_of_one_bracket_child_reduces_the_other(sim_tws_factory):
    sim = open_market(sim_tws_factory, depth=4)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            parent, take, stop = ib.bracketOrder("BUY", 10, 201.0, 220.0, 180.0)
            trades = [ib.placeOrder(aapl, o) for o in (parent, take, stop)]
            await _status(trades[0], "Filled")
            sizes: list[float] = []
            ib.openOrderEvent += lambda t: t is trades[2] and sizes.append(t.order.totalQuantity)
            await apply(sim, "price", {"symbol": "AAPL", "price": "221"})
            await _status(trades[1], "Filled")
            await _status(trades[2], "Cancelled")
            return trades, sizes

    (_parent, take, stop), sizes = run(body())
    assert [f.execution.shares for f in take.fills] == [4, 4, 2]
    assert sizes[:2] == [6, 2] and stop.orderStatus.filled == 0


def test_oca_group_and_global_cancel(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            orders = ib.oneCancelsAll(
                [LimitOrder("BUY", 1, 190.0), LimitOrder("BUY", 1, 210.0)], "grp1", 1
            )
            a, b = (ib.placeOrder(aapl, o) for o in orders)
            await _status(b, "Filled")
            await _status(a, "Cancelled")
            rest = [ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.0 + n)) for n in range(3)]
            await until(lambda: all(t.orderStatus.status == "Submitted" for t in rest))
            ib.reqGlobalCancel()
            await until(lambda: all(t.orderStatus.status == "Cancelled" for t in rest))

    run(body())


def _oca(ib, contract, group: str, oca_type: int, *sizes: int, limit: float = 190.0):
    orders = ib.oneCancelsAll([LimitOrder("BUY", n, limit) for n in sizes], group, oca_type)
    return [ib.placeOrder(contract, o) for o in orders]


def test_oca_type_1_cancels_on_a_partial_fill_type_2_reduces_in_proportion(sim_tws_factory):
    sim = open_market(sim_tws_factory, depth=4)  # 4 shares per order per pass

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            cancel = _oca(ib, aapl, "t1", 1, 10, 10)
            reduce = _oca(ib, aapl, "t2", 2, 10, 20)
            await until(lambda: all(t.orderStatus.status == "Submitted" for t in cancel + reduce))
            sizes: list[float] = []
            ib.openOrderEvent += lambda t: t is reduce[1] and sizes.append(t.order.totalQuantity)
            await apply(sim, "price", {"symbol": "AAPL", "price": "185"})
            for trade in (cancel[0], reduce[0]):
                await _status(trade, "Filled")
            await _status(cancel[1], "Cancelled")
            await _status(reduce[1], "Cancelled")
            return cancel, reduce, sizes

    cancel, reduce, sizes = run(body())
    assert [t.orderStatus.filled for t in cancel] == [10, 0]
    assert [f.execution.shares for f in reduce[0].fills] == [4, 4, 2]
    # 20 shares stand for the same objective as 10: 40% done leaves 12, 80% leaves 4
    assert sizes[:2] == [12, 4] and reduce[1].orderStatus.filled == 0


def test_oca_type_3_does_not_block_so_members_crossing_together_overfill(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            without_block = _oca(ib, aapl, "t3", 3, 10, 10)
            with_block = _oca(ib, aapl, "t2", 2, 10, 10)
            await until(lambda: all(t.orderStatus.status == "Submitted" for t in with_block))
            await apply(sim, "price", {"symbol": "AAPL", "price": "185"})
            await until(lambda: all(t.orderStatus.status == "Filled" for t in without_block))
            await _status(with_block[0], "Filled")
            await _status(with_block[1], "Cancelled")
            return without_block, with_block

    without_block, with_block = run(body())
    assert sum(t.orderStatus.filled for t in without_block) == 20  # both executed: overfilled
    assert [t.orderStatus.filled for t in with_block] == [10, 0]


def test_trailing_stops_follow_the_price_and_if_touched_orders_trigger(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def price(value: float) -> None:
        await apply(sim, "price", {"symbol": "AAPL", "price": str(value)})

    async def trailed(trade, level: float) -> None:
        """Until the simulator's matcher has moved this order's stop to ``level``."""
        order_id = trade.order.orderId

        def stop() -> float:
            [rec] = [r for r in sim.orders if r.order_id == order_id]
            return rec.trail_stop or 0.0

        await until(lambda: stop() >= level)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await price(200)
            trail = ib.placeOrder(aapl, Order(action="SELL", totalQuantity=1, orderType="TRAIL",
                                              auxPrice=5.0))
            pct = ib.placeOrder(aapl, Order(action="SELL", totalQuantity=1, orderType="TRAIL",
                                            trailingPercent=2.0))
            trail_lmt = ib.placeOrder(aapl, Order(
                action="SELL", totalQuantity=1, orderType="TRAIL LIMIT", auxPrice=5.0,
                lmtPriceOffset=0.5))
            # if touched: sell when the price rises to 209 (from 200), buy when it falls to 205
            mit = ib.placeOrder(aapl, Order(action="SELL", totalQuantity=1, orderType="MIT",
                                            auxPrice=209.0))
            await price(210)  # stops trail up to 205 / 205.8; MIT touched
            await _status(mit, "Filled")
            lit = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=1, orderType="LIT",
                                            auxPrice=205.0, lmtPrice=205.5))
            await _status(lit, "Submitted")
            for trade, level in ((trail, 204.9), (pct, 205.6), (trail_lmt, 204.9)):
                await trailed(trade, level)
            held = [t.orderStatus.status for t in (trail, pct, trail_lmt, lit)]
            await price(205.5)  # under the trailed 205.8 only
            await _status(pct, "Filled")
            held += [trail.orderStatus.status, lit.orderStatus.status]
            await price(204.8)  # through 205: both stops trigger; LIT touched
            for trade in (trail, trail_lmt, lit):
                await _status(trade, "Filled")
            return held, trail, pct, trail_lmt, mit, lit

    held, trail, pct, trail_lmt, mit, lit = run(body())
    assert held == ["Submitted"] * 6
    # a plain stop at 195 would not have triggered: these trailed the rise to 210
    assert 204 < trail.orderStatus.avgFillPrice < 205
    assert 205 < pct.orderStatus.avgFillPrice < 206
    assert trail_lmt.orderStatus.avgFillPrice >= 204.5  # limit: 0.5 under the 205 stop
    assert mit.orderStatus.avgFillPrice >= 209 and lit.orderStatus.avgFillPrice <= 205.5


def test_market_to_limit_and_midprice(sim_tws_factory):
    sim = open_market(sim_tws_factory, depth=1)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            [ticker] = await ib.reqTickersAsync(aapl)
            mid = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=1, orderType="MIDPRICE"))
            await _status(mid, "Filled")
            mtl = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=100, orderType="MTL"))
            await until(lambda: mtl.orderStatus.filled >= 1)
            await apply(sim, "price", {"symbol": "AAPL", "price": "210"})  # above its limit
            await asyncio.sleep(0.3)
            return ticker, mid, mtl

    ticker, mid, mtl = run(body())
    assert ticker.bid < mid.orderStatus.avgFillPrice < ticker.ask
    # one share per pass: the rest waits as a limit at the first fill's price
    first = mtl.fills[0].execution.price
    assert 1 <= mtl.orderStatus.filled < 100 and mtl.orderStatus.status == "Submitted"
    assert all(f.execution.price <= first for f in mtl.fills)


def test_time_in_force_ioc_fok_and_gtd(sim_tws_factory):
    from datetime import UTC, datetime, timedelta

    sim = open_market(sim_tws_factory, depth=4)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            ioc = ib.placeOrder(aapl, MarketOrder("BUY", 10, tif="IOC"))
            fok_big = ib.placeOrder(aapl, MarketOrder("BUY", 10, tif="FOK"))
            fok_small = ib.placeOrder(aapl, MarketOrder("BUY", 3, tif="FOK"))
            ioc_away = ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.0, tif="IOC"))
            soon = (datetime.now(UTC) + timedelta(seconds=2.5)).strftime("%Y%m%d-%H:%M:%S")
            gtd = ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.0, tif="GTD", goodTillDate=soon))
            for trade, status in ((ioc, "Cancelled"), (fok_big, "Cancelled"),
                                  (fok_small, "Filled"), (ioc_away, "Cancelled")):
                await _status(trade, status)
            await _status(gtd, "Cancelled", timeout=6)
            return ioc, fok_big, fok_small, gtd

    ioc, fok_big, fok_small, gtd = run(body())
    assert [e.status for e in gtd.log if e.status != "PendingSubmit"][:2] == [
        "Submitted",
        "Cancelled",
    ]  # it worked until its goodTillDate
    assert ioc.orderStatus.filled == 4  # what the touch had, the rest cancelled
    assert fok_big.orderStatus.filled == 0 and fok_small.orderStatus.filled == 3


def test_price_and_execution_conditions_fire_on_the_simulated_market(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            aapl, msft = await ib.qualifyContractsAsync(AAPL, MSFT)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            above = PriceCondition(isMore=True, price=250.0, conId=aapl.conId, exch="SMART")
            on_price = ib.placeOrder(
                aapl, MarketOrder("BUY", 1, conditions=[above], conditionsIgnoreRth=True)
            )
            after_msft = ExecutionCondition(secType="STK", exch="SMART", symbol="MSFT")
            on_exec = ib.placeOrder(
                aapl, MarketOrder("BUY", 2, conditions=[after_msft], conditionsIgnoreRth=True)
            )
            await asyncio.sleep(0.5)
            held = (on_price.orderStatus.status, on_exec.orderStatus.status)
            await apply(sim, "price", {"symbol": "AAPL", "price": "251"})
            await _status(on_price, "Filled")
            assert on_exec.orderStatus.status == "PreSubmitted"
            ib.placeOrder(msft, MarketOrder("SELL", 1))
            await _status(on_exec, "Filled")
            return held

    assert run(body()) == ("PreSubmitted", "PreSubmitted")


def test_what_if_margin_and_commission_from_the_account_model(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            return await ib.whatIfOrderAsync(aapl, MarketOrder("BUY", 1000))

    state = run(body())
    assert float(state.initMarginChange) == pytest.approx(1000 * 200 * 0.25, rel=0.01)
    # 1000 * 0.0035 = 3.50 + clearing 0.20 + exchange fee 3.00
    assert state.commission == pytest.approx(6.70)


def test_unknown_order_type_rests_and_errors_stay_clear(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            errors = ErrorLog(ib)
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            trade = ib.placeOrder(aapl, LimitOrder("BUY", 1, 1.0))
            await _status(trade, "Submitted")
            ib.cancelOrder(trade.order)
            await _status(trade, "Cancelled")
            ib.cancelOrder(trade.order)
            await errors.wait_for(10147)

    run(body())


def test_pnl_and_pnl_single_follow_fills_and_prices(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            await apply(sim, "price", {"symbol": "AAPL", "price": "200"})
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 100))
            await _status(trade, "Filled")
            account = ib.managedAccounts()[0]
            pnl = ib.reqPnL(account)
            single = ib.reqPnLSingle(account, "", aapl.conId)
            await until(lambda: single.position == 100)
            await apply(sim, "price", {"symbol": "AAPL", "price": "210"})
            await until(lambda: single.unrealizedPnL > 900, timeout=4)
            sell = ib.placeOrder(aapl, MarketOrder("SELL", 40))
            await _status(sell, "Filled")
            await until(lambda: pnl.realizedPnL > 300, timeout=4)
            return trade, sell, pnl, single

    trade, sell, pnl, single = run(body())
    cost = trade.orderStatus.avgFillPrice
    expected = 40 * (sell.orderStatus.avgFillPrice - cost)
    fee = sell.fills[0].commissionReport.commission
    assert pnl.realizedPnL == pytest.approx(expected - fee, abs=0.01)
    assert sell.fills[0].commissionReport.realizedPNL == pytest.approx(pnl.realizedPnL, abs=0.01)
    assert single.value == pytest.approx(single.position * 210, rel=0.01)


def test_completed_orders_decode_back(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            filled = ib.placeOrder(aapl, MarketOrder("BUY", 3))
            cancelled = ib.placeOrder(aapl, LimitOrder("BUY", 2, 1.0, orderRef="mine"))
            await _status(filled, "Filled")
            await _status(cancelled, "Submitted")
            ib.cancelOrder(cancelled.order)
            await _status(cancelled, "Cancelled")
            return await ib.reqCompletedOrdersAsync(apiOnly=True)

    done = run(body())
    assert sorted((t.orderStatus.status, t.order.totalQuantity) for t in done) == [
        ("Cancelled", 2.0),
        ("Filled", 3.0),
    ]
    [cancelled] = [t for t in done if t.orderStatus.status == "Cancelled"]
    assert cancelled.order.orderRef == "mine" and cancelled.order.lmtPrice == 1.0
    assert cancelled.contract.symbol == "AAPL"
