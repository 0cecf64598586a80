"""Order conditions firing on the simulated market, through ib_async over TCP.

Execution conditions fire on a later fill of the matching symbol, secType and
exchange only; volume conditions on the volume market data shows (fills and
``VOLUME`` prints add to it); ``conditionsIgnoreRth`` decides whether a
condition counts outside the listing's regular hours.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from ib_async import ExecutionCondition, MarketOrder, PriceCondition, Stock, VolumeCondition

from tests.simulator.helpers import apply, connected, open_market, run, until

pytestmark = pytest.mark.timeout(30)
AAPL = Stock("AAPL", "SMART", "USD")
MSFT = Stock("MSFT", "SMART", "USD")
HELD = 0.8  # seconds a held order is watched (four condition polls)


async def _status(trade, wanted: str, timeout: float = 4.0) -> None:
    await until(lambda: trade.orderStatus.status == wanted, timeout)


def test_execution_condition_fires_only_on_a_later_matching_fill(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            aapl, msft = await ib.qualifyContractsAsync(AAPL, MSFT)
            earlier = ib.placeOrder(msft, MarketOrder("BUY", 1))
            await _status(earlier, "Filled")

            def on(symbol: str, sec_type: str, exch: str):
                cond = ExecutionCondition(secType=sec_type, exch=exch, symbol=symbol)
                order = MarketOrder("BUY", 1, conditions=[cond], conditionsIgnoreRth=True)
                return ib.placeOrder(aapl, order)

            matching = on("MSFT", "STK", "SMART")
            on_primary = on("MSFT", "STK", "NASDAQ")
            others = {
                "option": on("MSFT", "OPT", "SMART"),
                "exchange": on("MSFT", "STK", "LSE"),
                "symbol": on("IBM", "STK", "SMART"),
            }
            await asyncio.sleep(HELD)
            before = {k: t.orderStatus.status for k, t in {"matching": matching, **others}.items()}
            ib.placeOrder(msft, MarketOrder("SELL", 1))
            await _status(matching, "Filled")
            await _status(on_primary, "Filled")
            await asyncio.sleep(HELD)
            after = {k: t.orderStatus.status for k, t in others.items()}
            return before, after

    before, after = run(body(), timeout=25)
    # the fill before the orders arrived does not count
    assert set(before.values()) == {"PreSubmitted"}, before
    assert after == {"option": "PreSubmitted", "exchange": "PreSubmitted", "symbol": "PreSubmitted"}


def test_volume_condition_fires_when_the_day_volume_crosses(sim_tws_factory):
    sim = open_market(sim_tws_factory)

    async def body():
        async with connected(sim) as ib:
            [aapl] = await ib.qualifyContractsAsync(AAPL)
            ticker = ib.reqMktData(aapl)
            await until(lambda: ticker.volume == ticker.volume and ticker.volume > 0)
            start = ticker.volume

            def when(volume: float, is_more: bool):
                cond = VolumeCondition(isMore=is_more, volume=int(volume), conId=aapl.conId)
                order = MarketOrder("BUY", 1, conditions=[cond], conditionsIgnoreRth=True)
                return ib.placeOrder(aapl, order)

            above = when(start + 500_000, True)
            below = when(start + 500_000, False)  # true now: released at once
            await _status(below, "Filled")
            await asyncio.sleep(HELD)
            held = above.orderStatus.status
            reply = await apply(sim, "volume", {"symbol": "AAPL", "shares": "600000"})
            await _status(above, "Filled")
            await until(lambda: ticker.volume >= start + 600_000)
            return start, held, reply, ticker.volume

    start, held, reply, seen = run(body(), timeout=25)
    assert held == "PreSubmitted"
    # the control reply and tick 8 agree; the two fills (1 share each) count too
    assert reply["volume"] >= start + 600_000 and seen >= reply["volume"]


def _universe_with_hours(tmp_path: Path) -> str:
    """The packaged universe with AAPL never in regular hours and MSFT always in them."""
    from traderctl.simulator.universe import DEFAULT_UNIVERSE

    raw = json.loads(Path(DEFAULT_UNIVERSE).read_text())
    all_day = [{"days": "Mon-Sun", "open": "00:00", "close": "00:00"}]
    raw["calendars"]["TEST_NO_RTH"] = {"timeZoneId": "UTC", "trading": all_day, "liquid": []}
    raw["calendars"]["TEST_ALL_RTH"] = {"timeZoneId": "UTC", "trading": all_day, "liquid": all_day}
    for contract in raw["contracts"]:
        if contract["symbol"] == "AAPL":
            contract["calendar"] = "TEST_NO_RTH"
        elif contract["symbol"] == "MSFT":
            contract["calendar"] = "TEST_ALL_RTH"
    path = tmp_path / "universe.json"
    path.write_text(json.dumps(raw))
    return str(path)


def test_conditions_ignore_rth_decides_outside_regular_hours(sim_tws_factory, tmp_path):
    from traderctl.simulator.scenario import Scenario

    sim = sim_tws_factory(
        universe_path=_universe_with_hours(tmp_path),
        scenario=Scenario.from_dict({"market": {"always_open": True, "interval": 0.05}}),
    )

    async def body():
        async with connected(sim) as ib:
            aapl, msft = await ib.qualifyContractsAsync(AAPL, MSFT)

            def true_now(contract: Stock, ignore_rth: bool):
                cond = PriceCondition(isMore=True, price=0.01, conId=contract.conId, exch="SMART")
                order = MarketOrder("BUY", 1, conditions=[cond], conditionsIgnoreRth=ignore_rth)
                return ib.placeOrder(contract, order)

            outside_ignored = true_now(aapl, True)
            outside_respected = true_now(aapl, False)
            inside = true_now(msft, False)
            await _status(outside_ignored, "Filled")
            await _status(inside, "Filled")
            await asyncio.sleep(HELD)
            held = outside_respected.orderStatus.status
            ib.cancelOrder(outside_respected.order)
            await _status(outside_respected, "Cancelled")
            return held

    assert run(body(), timeout=25) == "PreSubmitted"
