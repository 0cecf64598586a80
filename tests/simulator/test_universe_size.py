"""A 5,000+ listing universe, synthesized deterministically, resolved through ib_async."""

from __future__ import annotations

import pytest
from ib_async import Stock

from tests.simulator.helpers import connected, run
from traderctl.simulator.scenario import Scenario
from traderctl.simulator.server import load_universe

pytestmark = pytest.mark.timeout(20)


def test_synthetic_universe_is_deterministic_and_unique():
    a = load_universe(None, 5200)
    from traderctl.simulator.server import _load_universe

    _load_universe.cache_clear()
    b = load_universe(None, 5200)
    assert len(a.listings) == 5200 and a is not b
    assert [x.con_id for x in a.listings] == [x.con_id for x in b.listings]
    assert len({x.con_id for x in a.listings}) == 5200
    for symbol in ("BHP", "RIO", "SHEL"):
        venues = {x.primary_exchange for x in a.listings if x.symbol == symbol}
        assert len(venues) >= 2, (symbol, venues)
    assert {x.primary_exchange for x in a.listings if x.symbol == "BHP"} == {"ASX", "NYSE", "LSE"}


def test_resolution_over_a_5000_listing_universe(sim_tws_factory):
    sim = sim_tws_factory(scenario=Scenario.from_dict({"universe": {"size": 5000}}))

    async def body():
        async with connected(sim) as ib:
            bhp = await ib.qualifyContractsAsync(
                Stock("BHP", "SMART", "GBP"),
                Stock("BHP", "SMART", "AUD"),
                Stock("BHP", "SMART", "USD"),
            )
            ambiguous = await ib.reqContractDetailsAsync(Stock("BHP", "SMART"))
            found = await ib.reqMatchingSymbolsAsync("QA")
            [synthetic] = await ib.qualifyContractsAsync(
                Stock("QA", "SMART", found[0].contract.currency)
            )
            return bhp, ambiguous, found, synthetic

    bhp, ambiguous, found, synthetic = run(body())
    assert [c.primaryExchange for c in bhp] == ["LSE", "ASX", "NYSE"]
    assert len(ambiguous) == 3
    assert found[0].contract.symbol == "QA" and synthetic.conId >= 800_000_000
    assert len(sim.sim.universe.listings) == 5000
