"""Tick-by-tick, 5-second real-time bars and keepUpToDate through ib_async."""

from __future__ import annotations

import pytest
from ib_async import Stock

from tests.simulator.helpers import ErrorLog, apply, connected, open_market, run, until

pytestmark = pytest.mark.timeout(25)
AAPL = Stock("AAPL", "SMART", "USD")


def test_tick_by_tick_all_four_types(sim_tws_factory):
    sim = open_market(sim_tws_factory)
    kinds = ("Last", "AllLast", "BidAsk", "MidPoint")

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            seen = []
            ticker = None
            for kind in kinds:  # one Ticker per contract collects every type
                ticker = ib.reqTickByTickData(aapl, kind, numberOfTicks=5 if kind == "Last" else 0)
            ticker.updateEvent += lambda t: seen.extend(t.tickByTicks)
            await until(
                lambda: (
                    {type(t).__name__ for t in seen}
                    >= {"TickByTickAllLast", "TickByTickBidAsk", "TickByTickMidPoint"}
                )
            )
            await apply(sim, "price", {"symbol": "AAPL", "price": "300"})

            def mids():
                return [t.midPoint for t in seen if hasattr(t, "midPoint")]

            await until(lambda: abs(mids()[-1] - 300) < 2)
            for kind in kinds:
                ib.cancelTickByTickData(aapl, kind)
            return seen

    seen = run(body())
    last = [t for t in seen if type(t).__name__ == "TickByTickAllLast"][-1]
    bid_ask = [t for t in seen if type(t).__name__ == "TickByTickBidAsk"][-1]
    assert last.price > 0 and last.size > 0 and last.tickType in (1, 2)
    assert 0 < bid_ask.bidPrice < bid_ask.askPrice and bid_ask.bidSize > 0


def test_realtime_bars_every_five_seconds(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            errors = ErrorLog(ib)
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            bars = ib.reqRealTimeBars(aapl, 5, "TRADES", False)
            await until(lambda: len(bars) >= 1, timeout=7)
            ib.cancelRealTimeBars(bars)
            ib.reqRealTimeBars(aapl, 10, "TRADES", False)
            await errors.wait_for(321)
            return list(bars)

    [bar, *_] = run(body())
    assert bar.time.second % 5 == 0
    assert bar.low <= min(bar.open_, bar.close) <= max(bar.open_, bar.close) <= bar.high


def test_keep_up_to_date_sends_the_forming_bar(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            bars = await ib.reqHistoricalDataAsync(
                aapl, "", "1800 S", "1 min", "TRADES", False, keepUpToDate=True
            )
            updates = []
            bars.updateEvent += lambda b, new: updates.append(b[-1])
            await until(lambda: len(updates) >= 2, timeout=5)
            ib.cancelHistoricalData(bars)
            return bars, updates

    bars, updates = run(body())
    forming = updates[-1]
    assert forming.date.second == 0 and forming.date >= bars[-2].date
    assert forming.low <= forming.close <= forming.high
