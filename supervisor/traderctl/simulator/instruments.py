"""Futures, continuous futures and option chains, generated for the current date.

Futures (real multipliers, exchanges, ticks and Globex hours): ES and NQ
(CME, quarterly H/M/U/Z, last trade on the third Friday), CL (NYMEX, monthly,
last trade three business days before the 25th of the prior month), GC
(COMEX, even months, third-last business day) and 6E (CME, quarterly, two
business days before the third Wednesday). The next contracts from today are
listed, so expiries roll forward as days pass; ``CONTFUT`` resolves to the
front month. Option chains (SMART and the US option venues, multiplier 100)
for a few underlyings: weekly expiries for five weeks plus three monthly
ones, strikes +-20 % around the reference price; each option's reference
price is a Black-Scholes value at the underlying's reference price, and its
price then walks on its own path like any other listing (a documented
simplification: option prices do not follow the underlying tick by tick).

conIds are stable hashes of (secType, symbol, expiry, strike, right) in
700000000..799999999, outside the universe file's ranges.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from .hours import Calendar
from .universe import Listing

GLOBEX_DAYS = "Sun-Thu"
FUT_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,COND,DAY,GAT,GTC,GTD,IOC,LIT,LMT,MIT,MKT,OCA,STP,"
    "STPLMT,TRAIL,WHATIF"
)
OPT_EXCHANGES = ("SMART", "AMEX", "BOX", "CBOE", "CBOE2", "EDGX", "GEMINI", "ISE", "MIAX", "PHLX")
MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class FutureSpec:
    symbol: str
    exchange: str
    currency: str
    multiplier: float
    min_tick: float
    ref_price: float
    months: str  # month codes listed
    rule: str  # expiry rule name
    long_name: str
    liquid: tuple[str, str]  # regular hours, New York time
    count: int


FUTURES = (
    FutureSpec(
        "ES",
        "CME",
        "USD",
        50,
        0.25,
        6000.0,
        "HMUZ",
        "third_friday",
        "E-mini S&P 500",
        ("09:30", "16:15"),
        4,
    ),
    FutureSpec(
        "NQ",
        "CME",
        "USD",
        20,
        0.25,
        21000.0,
        "HMUZ",
        "third_friday",
        "E-mini Nasdaq-100",
        ("09:30", "16:15"),
        4,
    ),
    FutureSpec(
        "CL",
        "NYMEX",
        "USD",
        1000,
        0.01,
        70.0,
        MONTH_CODES,
        "cl",
        "Light Sweet Crude Oil",
        ("09:00", "14:30"),
        6,
    ),
    FutureSpec(
        "GC",
        "COMEX",
        "USD",
        100,
        0.1,
        2600.0,
        "GJMQVZ",
        "third_last_business",
        "Gold",
        ("08:20", "13:30"),
        4,
    ),
    FutureSpec(
        "6E",
        "CME",
        "USD",
        125000,
        0.00005,
        1.08,
        "HMUZ",
        "before_third_wednesday",
        "European Monetary Union Euro",
        ("08:20", "15:00"),
        4,
    ),
)
OPTION_UNDERLYINGS = {"AAPL": 5.0, "SPY": 5.0, "MSFT": 5.0}


def globex_calendar(name: str, liquid: tuple[str, str]) -> Calendar:
    """Sunday-Friday 18:00-17:00 New York with the product's regular hours."""
    return Calendar.from_dict(
        name,
        {
            "timeZoneId": "US/Eastern",
            "trading": [{"days": GLOBEX_DAYS, "open": "18:00", "close": "17:00"}],
            "liquid": [{"days": "Mon-Fri", "open": liquid[0], "close": liquid[1]}],
        },
    )


def stable_con_id(*parts: object) -> int:
    return 700_000_000 + zlib.crc32(":".join(map(str, parts)).encode()) % 100_000_000


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _business_back(day: date, n: int) -> date:
    while n > 0 or day.weekday() >= 5:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def last_trade_date(rule: str, year: int, month: int) -> date:
    """Last trading day of the contract month (see the module docstring)."""
    if rule == "third_friday":
        return _nth_weekday(year, month, 4, 3)
    if rule == "before_third_wednesday":
        return _business_back(_nth_weekday(year, month, 2, 3), 2)
    if rule == "cl":
        prior = date(year, month, 1) - timedelta(days=1)
        return _business_back(date(prior.year, prior.month, 25) + timedelta(days=1), 4)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return _business_back(nxt, 3)


def future_months(spec: FutureSpec, today: date) -> list[tuple[date, date]]:
    """(contract month, last trade date) of the next ``spec.count`` contracts."""
    out: list[tuple[date, date]] = []
    year, month = today.year, today.month
    while len(out) < spec.count:
        if MONTH_CODES[month - 1] in spec.months:
            last = last_trade_date(spec.rule, year, month)
            if last >= today:
                out.append((date(year, month, 1), last))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def futures(today: date) -> list[Listing]:
    listings: list[Listing] = []
    for spec in FUTURES:
        cal = globex_calendar(f"GLOBEX_{spec.symbol}", spec.liquid)
        for i, (month, last) in enumerate(future_months(spec, today)):
            code = f"{spec.symbol}{MONTH_CODES[month.month - 1]}{month.year % 10}"
            fields = dict(
                symbol=spec.symbol,
                exchange=spec.exchange,
                primary_exchange="",
                currency=spec.currency,
                local_symbol=code,
                trading_class=spec.symbol,
                long_name=spec.long_name,
                min_tick=spec.min_tick,
                calendar=cal,
                valid_exchanges=(spec.exchange,),
                order_types=FUT_ORDER_TYPES,
                ref_price=spec.ref_price * (1 + 0.004 * i),  # a little contango
                avg_volume=200_000 // (i + 1),
                multiplier=float(spec.multiplier),
                last_trade=f"{last:%Y%m%d}",
                contract_month=f"{month:%Y%m}",
            )
            con_id = stable_con_id("FUT", spec.symbol, fields["last_trade"])
            listings.append(Listing(con_id=con_id, sec_type="FUT", **fields))  # type: ignore[arg-type]
            if i == 0:
                front = stable_con_id("CONTFUT", spec.symbol)
                listings.append(Listing(con_id=front, sec_type="CONTFUT", **fields))  # type: ignore[arg-type]
    return listings


def _bs(spot: float, strike: float, years: float, vol: float, call: bool) -> float:
    if years <= 0:
        return max(0.0, (spot - strike) if call else (strike - spot))
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731 - a one-line CDF
    if call:
        return spot * n(d1) - strike * n(d2)
    return strike * n(-d2) - spot * n(-d1)


def option_expiries(today: date) -> list[date]:
    fridays = [today + timedelta(days=(4 - today.weekday()) % 7 + 7 * k) for k in range(5)]
    monthly: list[date] = []
    year, month = today.year, today.month
    while len(monthly) < 3:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        monthly.append(_nth_weekday(year, month, 4, 3))
    return sorted(set(fridays + monthly))


def option_strikes(ref: float, step: float) -> list[float]:
    low, high = math.ceil(ref * 0.8 / step), math.floor(ref * 1.2 / step)
    return [k * step for k in range(low, high + 1)]


def options(under: Listing, today: date) -> list[Listing]:
    step = OPTION_UNDERLYINGS[under.symbol]
    out: list[Listing] = []
    for expiry in option_expiries(today):
        years = max((expiry - today).days, 0.5) / 365.0
        for strike in option_strikes(under.ref_price, step):
            for right in ("C", "P"):
                price = _bs(under.ref_price, strike, years, 0.3, right == "C")
                local = f"{under.symbol:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"
                out.append(
                    Listing(
                        con_id=stable_con_id(
                            "OPT", under.symbol, f"{expiry:%Y%m%d}", strike, right
                        ),
                        symbol=under.symbol,
                        sec_type="OPT",
                        exchange="SMART",
                        primary_exchange="",
                        currency=under.currency,
                        local_symbol=local,
                        trading_class=under.symbol,
                        long_name=under.long_name,
                        min_tick=0.01 if price < 3 else 0.05,
                        calendar=under.calendar,
                        valid_exchanges=OPT_EXCHANGES,
                        order_types=FUT_ORDER_TYPES,
                        ref_price=max(round(price, 2), 0.01),
                        avg_volume=2_000,
                        multiplier=100.0,
                        last_trade=f"{expiry:%Y%m%d}",
                        strike=strike,
                        right=right,
                        under_con_id=under.con_id,
                        contract_month=f"{expiry:%Y%m}",
                    )
                )
    return out


@lru_cache(maxsize=4)
def derivatives(underlyings: tuple[Listing, ...], today: date) -> tuple[Listing, ...]:
    """Every generated derivative for ``today`` (cached: one set per day)."""
    out = futures(today)
    for under in underlyings:
        if under.symbol in OPTION_UNDERLYINGS and under.sec_type == "STK":
            out += options(under, today)
    return tuple(out)
