"""SecurityDefinition: identity, typed fields, time methods, built from real ib_async objects."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, time

import pytest
from ib_async import IB, Contract, ContractDetails, Stock, TagValue

from traderctl.securities import NaiveDatetimeError, SecurityDefinition, UnknownZoneError

pytestmark = pytest.mark.timeout(30)


def details(**overrides: object) -> ContractDetails:
    contract = Contract(secType="STK", conId=265598, symbol="AAPL", exchange="SMART",
                        primaryExchange="NASDAQ", currency="USD", localSymbol="AAPL",
                        tradingClass="NMS")
    values: dict[str, object] = dict(
        contract=contract, marketName="NMS", minTick=0.01, orderTypes="LMT,MKT",
        validExchanges="SMART,ISLAND,NYSE", longName="Apple Inc", timeZoneId="US/Eastern",
        tradingHours="20261125:0400-20261125:2000;20261126:CLOSED;20261127:0400-20261127:1700",
        liquidHours="20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300",
        marketRuleIds="26,26,26", secIdList=[TagValue("ISIN", "US0378331005")], minSize=1.0,
        sizeIncrement=1.0, stockType="COMMON", industry="Technology")
    values.update(overrides)
    return ContractDetails(**values)  # type: ignore[arg-type]


def test_fields_are_typed() -> None:
    sec = SecurityDefinition.from_contract_details(details())
    assert (sec.con_id, sec.symbol, sec.primary_exchange, sec.currency) == (
        265598, "AAPL", "NASDAQ", "USD")
    assert sec.min_tick == 0.01 and isinstance(sec.min_tick, float)
    assert sec.multiplier is None and sec.min_size == 1.0
    assert sec.valid_exchanges == ("SMART", "ISLAND", "NYSE")
    assert sec.market_rule_ids == (26, 26, 26) and sec.isin == "US0378331005"
    assert sec.key == "AAPL:NASDAQ:USD"


def test_identity_is_the_con_id_and_it_is_frozen() -> None:
    a = SecurityDefinition.from_contract_details(details())
    b = dataclasses.replace(a, long_name="Apple Inc (renamed)")
    assert a == b and len({a, b}) == 1
    assert a != dataclasses.replace(a, con_id=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.symbol = "MSFT"  # type: ignore[misc]
    with pytest.raises(ValueError, match="con_id"):
        SecurityDefinition(0, "X", "STK", "SMART", "", "USD")
    with pytest.raises(UnknownZoneError):
        SecurityDefinition(1, "X", "STK", "SMART", "", "USD", time_zone_id="Nowhere/Land")


def test_round_trip_through_a_row() -> None:
    sec = SecurityDefinition.from_contract_details(details())
    again = SecurityDefinition.from_dict(sec.to_dict())
    assert again.to_dict() == sec.to_dict()
    assert again.contract().conId == 265598


def test_time_methods_across_the_holiday() -> None:
    sec = SecurityDefinition.from_contract_details(details())
    wed_close = datetime(2026, 11, 25, 21, tzinfo=UTC)
    assert sec.is_open(wed_close, liquid=True) is False
    assert sec.is_open(wed_close) is True  # extended hours until 20:00 ET
    assert sec.sessions(date(2026, 11, 26), liquid=True) == ()
    assert sec.next_open(wed_close, liquid=True) == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert sec.next_close(wed_close, liquid=True) == datetime(2026, 11, 27, 18, tzinfo=UTC)
    assert sec.to_exchange_time(wed_close).hour == 16
    assert sec.from_exchange_time(datetime(2026, 11, 27, 13)) == datetime(  # noqa: DTZ001
        2026, 11, 27, 18, tzinfo=UTC)
    assert sec.at_exchange(date(2026, 11, 27), time(12, 50)) == datetime(
        2026, 11, 27, 17, 50, tzinfo=UTC)
    with pytest.raises(NaiveDatetimeError):
        sec.is_open(datetime(2026, 11, 25, 10))  # noqa: DTZ001


def test_built_from_the_simulator_over_tcp(sim_tws) -> None:  # type: ignore[no-untyped-def]
    async def body() -> list[SecurityDefinition]:
        ib = IB()
        await ib.connectAsync(sim_tws.host, sim_tws.port, clientId=7, timeout=5)
        try:
            found = []
            for contract in (Stock("AAPL", "SMART", "USD"), Stock("SAP", "SMART", "EUR"),
                             Stock("7203", "SMART", "JPY"), Stock("BHP", "SMART", "AUD")):
                [cd] = await ib.reqContractDetailsAsync(contract)
                found.append(SecurityDefinition.from_contract_details(cd))
            return found
        finally:
            ib.disconnect()

    aapl, sap, toyota, bhp = asyncio.run(asyncio.wait_for(body(), 20))
    assert (aapl.time_zone_id, str(aapl.zone)) == ("US/Eastern", "America/New_York")
    assert str(sap.zone) == "Europe/Brussels" and str(toyota.zone) == "Asia/Tokyo"
    assert str(bhp.zone) == "Australia/Sydney"
    now = datetime.now(UTC)
    for sec in (aapl, sap, toyota, bhp):
        today = sec.sessions_today(now)
        assert today is not None  # the simulator publishes a week starting today
        assert all(s.open.tzinfo is UTC for s in today)
        assert sec.next_close(now) is not None
    assert (toyota.sessions_today(now) == ()) == (toyota.exchange_date(now).weekday() >= 5)
