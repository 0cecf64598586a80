"""Holidays and early closes (exchange_calendars) in bars, hours strings and sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from ib_async import Stock

from tests.simulator.helpers import connected, run
from traderctl.simulator.server import load_universe

pytestmark = pytest.mark.timeout(30)
AAPL = Stock("AAPL", "SMART", "USD")


@pytest.fixture
def sim_tws_config():
    return {"limits": False}


def test_thanksgiving_has_no_bar_and_the_day_after_closes_at_13(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            daily = await ib.reqHistoricalDataAsync(
                AAPL, "20251203 16:00:00 US/Eastern", "10 D", "1 day", "TRADES", True
            )
            half = await ib.reqHistoricalDataAsync(
                AAPL, "20251128 23:00:00 US/Eastern", "1 D", "30 mins", "TRADES", True
            )
            return daily, half

    daily, half = run(body())
    days = [b.date for b in daily]
    assert date(2025, 11, 27) not in days and date(2025, 11, 28) in days
    assert (
        half[0].date.hour == 9 and half[-1].date.strftime("%H:%M") == "12:30"
    )  # last bar 12:30-13:00


def test_hours_strings_follow_the_calendar():
    aapl = load_universe(None).lookup("AAPL")
    liquid = aapl.calendar.hours_string(datetime(2026, 11, 25, 12, tzinfo=UTC), rth=True)
    assert "20261126:CLOSED" in liquid and "20261127:0930-20261127:1300" in liquid
    lse = load_universe(None).lookup("SHEL@LSE")
    christmas = lse.calendar.hours_string(datetime(2026, 12, 23, 12, tzinfo=UTC), rth=True)
    assert "20261225:CLOSED" in christmas and "20261228:CLOSED" in christmas  # Boxing Day moved
    assert "20261224:0800-20261224:1230" in christmas
