"""Futures, continuous futures, option chains and market rules through ib_async."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from ib_async import ContFuture, Future, MarketOrder, Option, Stock

from tests.simulator.helpers import connected, run
from traderctl.simulator.instruments import FUTURES, future_months, last_trade_date
from traderctl.simulator.scenario import Scenario

pytestmark = pytest.mark.timeout(20)
TODAY = datetime.now(UTC).date()


def test_futures_roll_from_today_with_real_specs(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            es = await ib.reqContractDetailsAsync(Future("ES", exchange="CME"))
            [cl] = await ib.qualifyContractsAsync(ContFuture("CL", "NYMEX"))
            gc = await ib.reqContractDetailsAsync(Future("GC", exchange="COMEX"))
            eur = await ib.reqContractDetailsAsync(Future("6E", exchange="CME"))
            return es, cl, gc, eur

    es, cl, gc, eur = run(body())
    expiries = [d.contract.lastTradeDateOrContractMonth for d in es]
    assert len(es) == 4 and expiries == sorted(expiries) and expiries[0] >= f"{TODAY:%Y%m%d}"
    assert {d.contract.multiplier for d in es} == {"50"} and es[0].minTick == 0.25
    assert es[0].contract.localSymbol.startswith("ES") and "CLOSED" in es[0].tradingHours
    assert cl.secType == "CONTFUT" and cl.multiplier == "1000"
    assert {d.contract.multiplier for d in gc} == {"100"}
    assert eur[0].contract.multiplier == "125000" and eur[0].minTick == 0.00005


def test_expiry_rules():
    assert last_trade_date("third_friday", 2026, 12) == date(2026, 12, 18)
    assert last_trade_date("before_third_wednesday", 2026, 12) == date(2026, 12, 14)
    assert last_trade_date("third_last_business", 2026, 12) == date(2026, 12, 29)
    es = next(s for s in FUTURES if s.symbol == "ES")
    # the day after the December contract expires, March is the front month
    assert future_months(es, date(2026, 12, 19))[0][0] == date(2027, 3, 1)


def test_option_chain_and_option_details(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            chains = await ib.reqSecDefOptParamsAsync("AAPL", "", "STK", aapl.conId)
            smart = next(c for c in chains if c.exchange == "SMART")
            expiry = smart.expirations[-1]
            strike = min(smart.strikes, key=lambda k: abs(k - 230))
            [call] = await ib.qualifyContractsAsync(Option("AAPL", expiry, strike, "C", "SMART"))
            [details] = await ib.reqContractDetailsAsync(call)
            rules = [
                await ib.reqMarketRuleAsync(int(r)) for r in {*details.marketRuleIds.split(",")}
            ]
            return aapl, chains, smart, call, details, rules

    aapl, chains, smart, call, details, rules = run(body())
    assert {c.exchange for c in chains} >= {"SMART", "CBOE"}
    assert int(smart.underlyingConId) == aapl.conId and smart.multiplier == "100"
    assert len(smart.expirations) >= 6 and all(e >= f"{TODAY:%Y%m%d}" for e in smart.expirations)
    assert len(smart.strikes) > 10 and smart.strikes == sorted(smart.strikes)
    assert call.secType == "OPT" and call.multiplier == "100" and call.right == "C"
    assert details.underConId == aapl.conId
    [increments] = rules
    assert [(p.lowEdge, p.increment) for p in increments] == [(0.0, 0.01), (3.0, 0.05)]


def test_market_rule_of_a_stock_resolves(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            [d] = await ib.reqContractDetailsAsync(Stock("AAPL", "SMART", "USD"))
            return await ib.reqMarketRuleAsync(int(d.marketRuleIds.split(",")[0]))

    assert [(p.lowEdge, p.increment) for p in run(body())] == [(0.0, 0.01)]


def test_future_fills_use_the_multiplier(sim_tws_factory):
    sim = sim_tws_factory(scenario=Scenario.from_dict({"market": {"always_open": True}}))

    async def body():
        async with connected(sim) as ib:
            [es] = await ib.qualifyContractsAsync(ContFuture("ES", "CME"))
            [front] = await ib.qualifyContractsAsync(Future(conId=es.conId, exchange="CME"))
            trade = ib.placeOrder(front, MarketOrder("BUY", 2))
            while not trade.fills or not trade.fills[-1].commissionReport.commission:
                await asyncio.sleep(0.02)
            summary = {
                v.tag: float(v.value)
                for v in await ib.accountSummaryAsync()
                if v.tag == "TotalCashValue"
            }
            return trade, summary

    trade, summary = run(body())
    price = trade.fills[0].execution.price
    assert trade.fills[0].commissionReport.commission == pytest.approx(2 * 2.13)
    assert summary["TotalCashValue"] == pytest.approx(1_000_000 - 2 * 50 * price - 4.26, abs=0.01)
