"""reqHistoricalData: deterministic bars, sessions, formats, limits and pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from ib_async import Forex, Stock

from tests.simulator.helpers import ErrorLog, connected, run

pytestmark = pytest.mark.timeout(25)
AAPL = Stock("AAPL", "SMART", "USD")
NY = ZoneInfo("US/Eastern")
# a fixed past Wednesday 15:00 New York time, so results never depend on today
END = "20240117 15:00:00 US/Eastern"


@pytest.fixture
def sim_tws_config():
    """Data-shape tests repeat identical requests, which IB's pacing forbids within 15 s."""
    return {"limits": False}


def _key(bars):
    return [(b.date, b.open, b.high, b.low, b.close, b.volume) for b in bars]


def test_daily_bars_deterministic_and_consistent(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            first = await ib.reqHistoricalDataAsync(AAPL, END, "1 M", "1 day", "TRADES", True)
            again = await ib.reqHistoricalDataAsync(
                AAPL, "20240117 15:00:00 US/Eastern", "1 M", "1 day", "TRADES", True, formatDate=1
            )
            shorter = await ib.reqHistoricalDataAsync(
                AAPL, "20240110 23:00:00 US/Eastern", "5 D", "1 day", "TRADES", True
            )
            return first, again, shorter

    first, again, shorter = run(body())
    assert _key(first) == _key(again)
    assert len(first) >= 18 and all(
        isinstance(b.date, date) and b.date.weekday() < 5 for b in first
    )
    assert all(
        b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high and b.volume > 0
        for b in first
    )
    # an overlapping window returns the very same bars
    overlap = {b.date: _key([b]) for b in first}
    assert len(shorter) == 5 and all(overlap[b.date] == _key([b]) for b in shorter)


def test_intraday_rth_vs_all_hours_and_format(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            rth = await ib.reqHistoricalDataAsync(AAPL, END, "1 D", "5 mins", "TRADES", True)
            eth = await ib.reqHistoricalDataAsync(AAPL, END, "1 D", "5 mins", "TRADES", False)
            epoch = await ib.reqHistoricalDataAsync(
                AAPL, END, "1 D", "5 mins", "TRADES", True, formatDate=2
            )
            mid = await ib.reqHistoricalDataAsync(AAPL, END, "1800 S", "1 min", "MIDPOINT", True)
            return rth, eth, epoch, mid

    rth, eth, epoch, mid = run(body())
    ny_times = [b.date.astimezone(NY).time() for b in rth]
    assert ny_times[0] == time(9, 30) and all(time(9, 30) <= t < time(16, 0) for t in ny_times)
    assert len(rth) == 66  # 09:30 .. 14:55 on the end day
    assert eth[0].date.astimezone(NY).time() == time(4, 0) and len(eth) > len(rth)
    assert all(b.date.tzinfo is not None and b.date.utcoffset() == timedelta(0) for b in epoch)
    assert [b.date.astimezone(UTC) for b in epoch] == [b.date.astimezone(UTC) for b in rth]
    assert len(mid) == 30 and all(b.volume == -1 for b in mid)
    assert mid[-1].date.astimezone(NY).time() == time(14, 59)


def test_weekend_rth_has_no_data_and_utc_end_forms(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            saturday = await ib.reqHistoricalDataAsync(
                AAPL, "20240120 12:00:00 US/Eastern", "3600 S", "1 min", "TRADES", True
            )
            dash = await ib.reqHistoricalDataAsync(
                AAPL, "20240117-20:00:00", "1 D", "1 hour", "TRADES", True
            )
            utc = await ib.reqHistoricalDataAsync(
                AAPL, datetime(2024, 1, 17, 20, tzinfo=UTC), "1 D", "1 hour", "TRADES", True
            )
            return saturday, dash, utc, errors

    saturday, dash, utc, errors = run(body())
    assert len(saturday) == 0 and any(c == 162 and "no data" in m for _, c, m in errors.items)
    assert _key(dash) == _key(utc) and len(dash) == 6  # 09:30 (half hour) .. 14:00 ET


def test_fx_midpoint_and_bid_ask(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            eur = Forex("EURUSD")
            mid = await ib.reqHistoricalDataAsync(eur, END, "2 D", "1 hour", "MIDPOINT", False)
            ba = await ib.reqHistoricalDataAsync(eur, END, "1 D", "1 hour", "BID_ASK", False)
            trades = await ib.reqHistoricalDataAsync(eur, END, "1 D", "1 hour", "TRADES", False)
            return mid, ba, trades, errors

    mid, ba, trades, errors = run(body())
    assert len(mid) > 24 and 0.5 < mid[0].close < 2.0
    assert all(b.low <= b.high for b in ba) and len(trades) == 0
    assert any(c == 162 and "No historical market data" in m for _, c, m in errors.items)


def test_max_duration_error_162_ends_request(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            started = asyncio.get_running_loop().time()
            bars = await ib.reqHistoricalDataAsync(AAPL, END, "1 D", "1 secs", "TRADES", True)
            took = asyncio.get_running_loop().time() - started
            ok = await ib.reqHistoricalDataAsync(AAPL, END, "1800 S", "1 secs", "TRADES", True)
            return bars, took, ok, errors

    bars, took, ok, errors = run(body())
    assert len(bars) == 0 and took < 1.0
    assert (162, "Historical Market Data Service error message:Time length exceed max.") in [
        (c, m) for _, c, m in errors.items
    ]
    assert len(ok) == 1800


def test_invalid_bar_size_is_321_like_tws(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            bars = await ib.reqHistoricalDataAsync(
                AAPL, END, "1 D", "7 mins", "TRADES", True, timeout=0.5
            )
            return bars, errors

    bars, errors = run(body())
    # 321 is only a warning for ib_async: the request runs into its own timeout
    assert len(bars) == 0 and any(c == 321 and "bar size" in m for _, c, m in errors.items)


@pytest.mark.sim_tws(time_scale=0.1, limits=True)
def test_pacing_violations_162(sim_tws):
    """Hard pacing rules: bars of 30 seconds or less."""

    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            ib.RaiseRequestErrors = False
            durations = [f"{n * 60} S" for n in range(1, 7)]
            burst = await asyncio.gather(
                *[
                    ib.reqHistoricalDataAsync(AAPL, END, d, "30 secs", "TRADES", True)
                    for d in durations
                ]
            )
            same = (AAPL, END, "1800 S", "30 secs", "MIDPOINT", True)
            identical = await ib.reqHistoricalDataAsync(*same)
            identical2 = await ib.reqHistoricalDataAsync(*same)
            await asyncio.sleep(1.6)  # 15 s identical window * 0.1
            recovered = await ib.reqHistoricalDataAsync(*same)
            bid_ask = [
                await ib.reqHistoricalDataAsync(
                    AAPL, END, f"{n * 1800} S", "30 secs", "BID_ASK", True
                )
                for n in (1, 2, 3)
            ]
            return burst, identical, identical2, recovered, bid_ask, errors

    burst, identical, identical2, recovered, bid_ask, errors = run(body())
    pacing = [m for _, c, m in errors.items if c == 162 and "pacing violation" in m]
    assert sum(1 for b in burst if not b) == 1 and len(pacing) >= 1  # the 6th within 2 s
    assert identical and not identical2 and recovered
    assert bid_ask[0] and bid_ask[1] and not bid_ask[2]  # BID_ASK counts double
    assert len(pacing) == 3


@pytest.mark.sim_tws(limits=True)
def test_one_minute_bars_have_no_hard_rules_but_a_soft_throttle_and_322(sim_tws):
    """1 min bars: identical requests pass; past 60 replies are held; 50 held -> 322."""

    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            ib.RaiseRequestErrors = False
            ib.client.MaxRequests = 40  # ib_async's 45/s can bunch past TWS's 50/s under load
            same = (AAPL, END, "1800 S", "1 min", "TRADES", True)
            first = [await ib.reqHistoricalDataAsync(*same) for _ in range(60)]
            loop = asyncio.get_running_loop()
            started = loop.time()
            held = await ib.reqHistoricalDataAsync(*same)
            waited = loop.time() - started
            # ib_async sends at most 40 requests/s here; held replies pile up past 50
            crowd = await asyncio.gather(*[ib.reqHistoricalDataAsync(*same) for _ in range(70)])
            return first, held, waited, crowd, errors

    first, held, waited, crowd, errors = run(body(), timeout=30)
    assert all(len(b) == 30 for b in first) and len(held) == 30  # no 162 for identical requests
    assert waited >= 0.1  # the 61st within 10 minutes is held
    assert not any(c == 162 for _, c, _ in errors.items)
    too_many = [m for _, c, m in errors.items if c == 322]
    assert too_many and "50 simultaneous" in too_many[0]
    assert sum(1 for b in crowd if len(b) == 30) + len(too_many) == 70


@pytest.mark.sim_tws(limits=True)
def test_max_duration_still_checked_with_limits_on(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            return await ib.reqHistoricalDataAsync(AAPL, END, "2 D", "1 min", "TRADES", True)

    assert len(run(body())) == 0


def test_limits_off(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            same = [
                await ib.reqHistoricalDataAsync(AAPL, END, "1 D", "1 day", "TRADES", True)
                for _ in range(8)
            ]
            return same

    assert all(len(b) == 1 for b in run(body()))
