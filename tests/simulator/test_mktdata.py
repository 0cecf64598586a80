"""reqMktData through ib_async: streaming, snapshots, data types, entitlements, moves."""

from __future__ import annotations

import asyncio
import math

import pytest
from ib_async import Contract, Stock

from tests.simulator.helpers import ErrorLog, apply, connected, open_market, run, until

pytestmark = pytest.mark.timeout(20)
AAPL = Stock("AAPL", "SMART", "USD")


def test_streaming_ticks_and_cancel(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            ticker = ib.reqMktData(aapl, "165,233,236")
            await until(lambda: ticker.bid > 0 and ticker.ask > 0 and ticker.last > 0)
            updates = []
            ticker.updateEvent += lambda t: updates.append(t.time)
            await until(lambda: len(updates) >= 3)
            snap = (ticker.bid, ticker.ask, ticker.last, ticker.volume, ticker.close)
            extras = (ticker.low13week, ticker.high52week, ticker.avVolume, ticker.rtVolume)
            ib.cancelMktData(aapl)
            await asyncio.sleep(0.3)
            before = len(updates)
            await asyncio.sleep(0.3)
            return snap, extras, ticker, before, len(updates)

    (bid, ask, last, volume, close), extras, ticker, before, after = run(body())
    assert (bid < ask and bid <= last <= ask) or abs(last - (bid + ask) / 2) < 0.5
    assert volume > 0 and close > 0
    assert all(x and not math.isnan(x) for x in extras[:3]) and extras[3] > 0
    assert ticker.minTick == 0.01 and ticker.marketDataType == 1
    assert before == after  # nothing after cancelMktData


def test_snapshot_and_reqtickers_end_with_tick_snapshot_end(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            contracts = await ib.qualifyContractsAsync(AAPL, Stock("MSFT", "SMART", "USD"))
            tickers = await asyncio.wait_for(ib.reqTickersAsync(*contracts), 5)
            regulatory = await asyncio.wait_for(
                ib.reqTickersAsync(contracts[0], regulatorySnapshot=True), 5
            )
            return tickers, regulatory

    tickers, regulatory = run(body())
    assert [t.contract.symbol for t in tickers] == ["AAPL", "MSFT"]
    assert all(t.bid > 0 and t.ask > t.bid and t.last > 0 for t in tickers)
    assert regulatory[0].last == pytest.approx(tickers[0].last, rel=0.05)


def test_price_control_gap_and_halt(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            ticker = ib.reqMktData(aapl)
            await apply(sim, "price", {"symbol": "AAPL", "price": "250.00"})
            await until(lambda: abs(ticker.last - 250.0) < 2.0)
            moved = await apply(sim, "gap", {"symbol": "AAPL", "percent": "-10"})
            await until(lambda: ticker.last < 230)
            await apply(sim, "halt", {"symbol": "AAPL"})
            await until(lambda: ticker.halted == 1)
            halted_at = ticker.last
            await asyncio.sleep(0.3)
            frozen = ticker.last
            await apply(sim, "resume", {"symbol": "AAPL"})
            await until(lambda: ticker.halted == 0)
            return moved, halted_at, frozen

    moved, halted_at, frozen = run(body())
    assert moved["last"] == pytest.approx(225, rel=0.02)
    assert halted_at == frozen


def test_control_port_price_command(sim_tws_factory):
    from traderctl.simulator.control import ControlServer

    sim = open_market(sim_tws_factory)

    async def body():
        ctl = ControlServer(sim.sim, 0)
        return await ctl.execute("PRICE AAPL 123.45"), await ctl.execute("PRICE NOSUCH 1")

    ok, bad = sim.call(body())
    assert ok.startswith("OK ") and '"last": 123.45' in ok
    assert bad.startswith("ERROR no single contract")


def test_entitlements_354_10089_and_delayed_10167(sim_tws_factory):
    sim = open_market(sim_tws_factory, unsubscribed=["MSFT"], no_api=["TSLA"])

    async def body():
        async with connected(sim) as ib:
            errors = ErrorLog(ib)
            msft, tsla = await ib.qualifyContractsAsync(
                Stock("MSFT", "SMART", "USD"), Stock("TSLA", "SMART", "USD")
            )
            ib.reqMktData(msft)
            ib.reqMktData(tsla)
            await errors.wait_for(354)
            await errors.wait_for(10089)
            ib.reqMarketDataType(3)
            delayed = ib.reqMktData(msft)
            await errors.wait_for(10167)
            await until(lambda: delayed.last > 0)
            return delayed

    delayed = run(body())
    assert delayed.marketDataType == 3 and delayed.bid > 0


def test_bad_generic_tick_and_unknown_contract(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            errors = ErrorLog(ib)
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            ib.reqMktData(aapl, "999")
            await errors.wait_for(321)
            ib.reqMktData(Contract(conId=999_999_999, exchange="SMART"))
            await errors.wait_for(200)

    run(body())


def test_live_price_is_the_bar_close_of_the_same_minute():
    """Live quotes and historical bars come from the same path."""
    from datetime import UTC, datetime, timedelta

    from traderctl.simulator.bars import PriceModel, make_bar
    from traderctl.simulator.market import Market
    from traderctl.simulator.server import load_universe

    universe = load_universe(None)
    aapl = universe.lookup("AAPL")
    model = PriceModel.for_listing(aapl)
    market = Market(lambda lst: model)
    start = datetime(2024, 1, 17, 15, 30, tzinfo=UTC)  # 10:30 New York, a Wednesday
    bar = make_bar(model, start, start + timedelta(minutes=1), "TRADES", 23400)
    assert market.price(aapl, (start + timedelta(minutes=1)).timestamp()) == bar.close
    # Saturday: frozen at the close of Friday's extended session (20:00 New York)
    saturday = datetime(2024, 1, 20, 15, 0, tzinfo=UTC).timestamp()
    friday_close = datetime(2024, 1, 20, 1, 0, tzinfo=UTC).timestamp()
    assert market.price(aapl, saturday) == model.round(model.price(friday_close))
    assert market.price(aapl, saturday + 3600) == market.price(aapl, saturday)
