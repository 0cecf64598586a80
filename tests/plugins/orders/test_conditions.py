"""The --when grammar: every kind parses, prints back, and bad input names its token."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traderctl.securities import SecurityDefinition
from traderctl_orders.conditions import (
    TRIGGER_METHODS,
    ChangeCond,
    ConditionError,
    ExecutionCond,
    MarginCond,
    PriceCond,
    TimeCond,
    VolumeCond,
    format_all,
    format_condition,
    parse,
)
from traderctl_orders.wire import from_ib, parse_tws_time, to_ib

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("text", "expected"), [
    ("price AAPL >= 150", PriceCond("AAPL", True, Decimal("150"))),
    ("price AAPL < 150.25 via double-bid-ask",
     PriceCond("AAPL", False, Decimal("150.25"), "double-bid-ask")),
    ("time >= 2026-11-23 14:30 America/New_York",
     TimeCond(True, datetime(2026, 11, 23, 14, 30, tzinfo=NY))),
    ("margin < 20%", MarginCond(False, 20)),
    ("execution MSFT STK SMART", ExecutionCond("MSFT", "STK", "SMART")),
    ("execution MSFT", ExecutionCond("MSFT")),
    ("volume AAPL > 1000000", VolumeCond("AAPL", True, 1000000)),
    ("change AAPL <= -3%", ChangeCond("AAPL", False, Decimal("-3"))),
    ("price BHP:ASX >= 40", PriceCond("BHP:ASX", True, Decimal("40"))),
])
def test_every_kind_parses(text: str, expected: object) -> None:
    assert parse(text) == expected
    assert parse(format_condition(parse(text))) == expected


@pytest.mark.parametrize(("text", "token"), [
    ("prize AAPL >= 1", "prize"),
    ("price AAPL => 1", "=>"),
    ("price AAPL >= abc", "abc"),
    ("price AAPL >= 1 via sideways", "sideways"),
    ("price AAPL >= 1 using last", "using"),
    ("time >= 2026-11-23 14:30", "<end>"),
    ("time >= 2026-11-23 14:30 Mars/Olympus", "Mars/Olympus"),
    ("time >= 23/11/2026 14:30 UTC", "23/11/2026"),
    ("margin < 20", "20"),
    ("margin < 20.5%", "20.5%"),
    ("volume AAPL > 1.5", "1.5"),
    ("change AAPL <= -3", "-3"),
    ("execution MSFT STK SMART extra", "extra"),
    ("", "<end>"),
])
def test_parse_error_names_token_and_shows_grammar(text: str, token: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert info.value.token == token
    assert repr(token) in str(info.value)
    assert "condition grammar" in str(info.value)


def test_joined_and_or() -> None:
    conds = [parse("price AAPL >= 150"), parse("margin <= 20%")]
    assert format_all(conds, any_of=False) == "price AAPL >= 150 AND margin <= 20%"
    assert format_all(conds, any_of=True) == "price AAPL >= 150 OR margin <= 20%"


symbols = st.from_regex(r"\A[A-Z]{1,5}(:[A-Z]{2,6})?\Z")
decimals = st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False,
                       allow_infinity=False)
zones = st.sampled_from(["America/New_York", "Europe/London", "Asia/Tokyo", "UTC"])
moments = st.builds(lambda d, z: d.replace(microsecond=0, tzinfo=ZoneInfo(z)),
                    st.datetimes(min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
                                 max_value=datetime(2100, 1, 1)), zones)  # noqa: DTZ001
conditions = st.one_of(
    st.builds(PriceCond, symbols, st.booleans(), decimals, st.sampled_from(list(TRIGGER_METHODS))),
    st.builds(TimeCond, st.booleans(), moments),
    st.builds(MarginCond, st.booleans(), st.integers(0, 100)),
    st.builds(ExecutionCond, symbols, st.sampled_from(["STK", "FUT", "OPT"]),
              st.sampled_from(["SMART", "NASDAQ", "ASX"])),
    st.builds(VolumeCond, symbols, st.booleans(), st.integers(0, 10**12)),
    st.builds(ChangeCond, symbols, st.booleans(), decimals),
)


@settings(deadline=None)
@given(conditions)
def test_round_trip(condition: object) -> None:
    assert parse(format_condition(condition)) == condition  # type: ignore[arg-type]


def _secs(condition: object) -> dict[str, SecurityDefinition]:
    symbol = getattr(condition, "symbol", None)
    if symbol is None:
        return {}
    return {symbol: SecurityDefinition(4242, symbol.split(":")[0], "STK", "SMART", "", "USD")}


@settings(deadline=None)  # the first example imports ib_async; the machine is shared
@given(conditions)
def test_wire_round_trip(condition: object) -> None:
    """Our condition -> the ib_async object sent -> our condition again."""
    secs = _secs(condition)
    sent = to_ib(condition, secs, "a")  # type: ignore[arg-type]
    names = {4242: getattr(condition, "symbol", "")}
    back = from_ib(sent, names)
    if isinstance(condition, ExecutionCond):  # IB's execution condition carries the bare symbol
        condition = ExecutionCond(condition.symbol.split(":")[0], condition.sec_type,
                                  condition.exchange)
        back = ExecutionCond(back.symbol, back.sec_type, back.exchange)  # type: ignore[union-attr]
    assert back == condition


def test_time_goes_in_tws_form() -> None:
    sent = to_ib(parse("time >= 2026-11-23 14:30 America/New_York"), {}, "o")
    assert (sent.time, sent.conjunction, sent.isMore) == (
        "20261123 14:30:00 America/New_York", "o", True)
    assert parse_tws_time("20261123-19:30:00") == datetime(2026, 11, 23, 14, 30, tzinfo=NY)
