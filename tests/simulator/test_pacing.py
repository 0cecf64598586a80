"""IB's historical pacing rules, counted exactly (not just "some requests fail").

The 60-per-10-minutes rule is checked with 61 requests for 61 different
contracts, so neither the per-contract burst rule nor the identical-request
rule can be what rejects the last one.
"""

from __future__ import annotations

from collections import Counter

import pytest
from ib_async import Contract

from tests.simulator.helpers import ErrorLog, connected, run
from traderctl.simulator.pacing import HistoricalPacer
from traderctl.simulator.universe import Universe

pytestmark = pytest.mark.timeout(60)
END = "20240117 15:00:00 US/Eastern"


def _distinct_us_stocks(count: int) -> list[int]:
    universe = Universe.load()
    names = Counter(lst.symbol for lst in universe.listings)
    con_ids = [
        lst.con_id
        for lst in universe.listings
        if lst.sec_type == "STK" and lst.currency == "USD" and names[lst.symbol] == 1
    ]
    assert len(con_ids) >= count
    return con_ids[:count]


def _pacing(errors: ErrorLog) -> list[int]:
    return [r for r, c, m in errors.items if c == 162 and "pacing violation" in m]


# the long window is 10 minutes * 0.05 = 30 s: far longer than 61 requests take
@pytest.mark.sim_tws(time_scale=0.05, limits=True)
def test_sixty_per_ten_minutes_counts_every_contract(sim_tws):
    con_ids = _distinct_us_stocks(61)

    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            ib.RaiseRequestErrors = False
            results = []
            for con_id in con_ids:
                contract = Contract(conId=con_id, exchange="SMART")
                bars = await ib.reqHistoricalDataAsync(
                    contract, END, "1800 S", "30 secs", "TRADES", True
                )
                results.append(len(bars))
            return results, errors

    results, errors = run(body(), timeout=50)
    assert all(n > 0 for n in results[:60]), results
    assert results[60] == 0 and len(_pacing(errors)) == 1


@pytest.mark.sim_tws(time_scale=0.05, limits=True)
def test_bid_ask_counts_twice_towards_sixty(sim_tws):
    con_ids = _distinct_us_stocks(31)

    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            ib.RaiseRequestErrors = False
            results = []
            for con_id in con_ids:
                bars = await ib.reqHistoricalDataAsync(
                    Contract(conId=con_id, exchange="SMART"),
                    END,
                    "1800 S",
                    "30 secs",
                    "BID_ASK",
                    True,
                )
                results.append(len(bars))
            return results, errors

    results, errors = run(body(), timeout=50)
    assert all(n > 0 for n in results[:30]) and results[30] == 0
    assert len(_pacing(errors)) == 1


def test_long_window_slides_and_rejections_are_not_counted():
    now = [0.0]
    pacer = HistoricalPacer(time_scale=1.0, clock=lambda: now[0])
    for i in range(60):
        now[0] = i * 5.0  # one request every 5 s, each for its own contract
        assert pacer.check(("req", i), ("contract", i), 1) is None
    assert (
        pacer.check(("req", 60), ("contract", 60), 1) == "more than 60 requests within 10 minutes"
    )
    now[0] = 600.0  # the first request (t=0) has left the window: exactly one slot free
    assert pacer.check(("req", 61), ("contract", 61), 1) is None
    assert pacer.check(("req", 62), ("contract", 62), 1) is not None
