"""reqContractDetails / qualifyContracts / reqMatchingSymbols against the universe."""

from __future__ import annotations

import re

import pytest
from ib_async import Contract, Forex, Stock

from tests.simulator.helpers import ErrorLog, connected, run

pytestmark = pytest.mark.timeout(20)
HOURS = re.compile(r"^(\d{8}:(CLOSED|\d{4}-\d{8}:\d{4}))(;\d{8}:(CLOSED|\d{4}-\d{8}:\d{4}))*$")


def test_qualify_across_regions(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            aapl, sap, asml, toyota, tencent, bhp, eurusd = await ib.qualifyContractsAsync(
                Stock("AAPL", "SMART", "USD"),
                Stock("SAP", "SMART", "EUR", primaryExchange="IBIS"),
                Stock("ASML", "AEB", "EUR"),
                Stock("7203", "SMART", "JPY"),
                Stock("700", "SEHK", "HKD"),
                Stock("BHP", "SMART", "AUD"),
                Forex("EURUSD"),
            )
            assert (aapl.conId, aapl.exchange, aapl.primaryExchange) == (265598, "SMART", "NASDAQ")
            assert (sap.primaryExchange, sap.currency) == ("IBIS", "EUR")
            assert asml.exchange == "AEB" and toyota.primaryExchange == "TSEJ"
            assert tencent.exchange == "SEHK" and bhp.primaryExchange == "ASX"
            assert (eurusd.conId, eurusd.secType, eurusd.localSymbol) == (
                12087792,
                "CASH",
                "EUR.USD",
            )
            [by_id] = await ib.qualifyContractsAsync(Contract(conId=265598))
            assert by_id.symbol == "AAPL"

    run(body())


def test_contract_details_fields(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            [cd] = await ib.reqContractDetailsAsync(Stock("AAPL", "SMART", "USD"))
            assert cd.longName == "Apple Inc" and cd.minTick == 0.01
            assert cd.timeZoneId == "US/Eastern" and cd.stockType == "COMMON"
            assert [(t.tag, t.value) for t in cd.secIdList] == [("ISIN", "US0378331005")]
            assert HOURS.match(cd.tradingHours) and HOURS.match(cd.liquidHours)
            assert len(cd.liquidHours.split(";")) == 7
            sessions = cd.liquidSessions()
            assert all(s.start.hour == 9 and s.start.minute == 30 for s in sessions)
            assert all(s.start.weekday() < 5 for s in sessions)
            [fx] = await ib.reqContractDetailsAsync(Forex("USDJPY"))
            assert fx.minTick == 0.005 and "1715-" in fx.tradingHours
            [tse] = await ib.reqContractDetailsAsync(Stock("7203", "TSEJ", "JPY"))
            assert (
                tse.timeZoneId == "Japan"
                and "0900-" in tse.liquidHours
                and "1230-" in tse.liquidHours
            )

    run(body())


def test_unknown_contract_error_200(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            errors = ErrorLog(ib)
            assert await ib.qualifyContractsAsync(Stock("NOSUCH", "SMART", "USD")) == [None]
            req_id, code, message = await errors.wait_for(200)
            assert "No security definition" in message and req_id > 0 and code == 200

    run(body())


def test_ambiguous_requests(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            # SAP trades in USD on NYSE and in EUR on IBIS: SMART without currency is ambiguous
            assert await ib.qualifyContractsAsync(Stock("SAP", "SMART")) == [None]
            both = await ib.reqContractDetailsAsync(Stock("SAP", "SMART"))
            assert {d.contract.currency for d in both} == {"USD", "EUR"}
            # no exchange: TWS lists one detail per valid exchange
            listings = await ib.reqContractDetailsAsync(Stock("AAPL", "", "USD"))
            assert len(listings) > 5 and {d.contract.conId for d in listings} == {265598}
            # an exact venue narrows it to one listing
            [ibis] = await ib.reqContractDetailsAsync(Stock("SAP", "IBIS"))
            assert ibis.contract.exchange == "IBIS" and ibis.contract.currency == "EUR"

    run(body())


def test_matching_symbols(sim_tws):
    async def body():
        async with connected(sim_tws) as ib:
            found = await ib.reqMatchingSymbolsAsync("AAP")
            assert found[0].contract.symbol == "AAPL" and found[0].contract.conId == 265598
            assert "OPT" in found[0].derivativeSecTypes
            by_name = await ib.reqMatchingSymbolsAsync("toyota")
            assert {d.contract.symbol for d in by_name} >= {"7203", "TM"}
            many = await ib.reqMatchingSymbolsAsync("A")
            assert len(many) == 16
            assert await ib.reqMatchingSymbolsAsync("ZZZZZZ") == []

    run(body())
