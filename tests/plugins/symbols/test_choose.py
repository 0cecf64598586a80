"""The documented rule that picks one of several listings, never silently the first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traderctl.securities import SecurityDefinition
from traderctl_symbols.choose import choose
from traderctl_symbols.query import QueryError, SymbolQuery


def sec(con_id: int, primary: str, currency: str) -> SecurityDefinition:
    return SecurityDefinition(con_id, "BHP", "STK", "SMART", primary, currency)


ASX, NYSE, LSE = sec(3, "ASX", "AUD"), sec(2, "NYSE", "USD"), sec(1, "LSE", "GBP")


@pytest.mark.parametrize(("asked", "prefer", "currency", "chosen", "rule"), [
    ("BHP", (), "", LSE, "lowest-conid"),
    ("BHP", ("ASX", "NYSE"), "", ASX, "prefer-primary:ASX"),
    ("BHP", ("TSE", "NYSE"), "", NYSE, "prefer-primary:NYSE"),
    ("BHP", ("TSE",), "USD", NYSE, "currency:USD"),
    ("BHP:LSE", ("ASX",), "USD", LSE, "requested"),
    ("BHP::AUD", ("NYSE",), "USD", ASX, "requested"),
    ("BHP:XETRA", ("NYSE",), "", NYSE, "prefer-primary:NYSE"),  # asked for nothing there
])
def test_rule_table(asked: str, prefer: tuple[str, ...], currency: str,
                    chosen: SecurityDefinition, rule: str) -> None:
    pick = choose(SymbolQuery.parse(asked), [ASX, NYSE, LSE], prefer, currency)
    assert (pick.chosen, pick.rule) == (chosen, rule)
    assert set(pick.candidates) == {ASX, NYSE, LSE}


def test_one_candidate_is_only_and_none_is_an_error() -> None:
    assert choose(SymbolQuery("BHP"), [ASX], ("NYSE",)).rule == "only"
    with pytest.raises(ValueError):
        choose(SymbolQuery("BHP"), [])


@given(order=st.permutations([ASX, NYSE, LSE]),
       prefer=st.lists(st.sampled_from(["ASX", "NYSE", "LSE", "TSE"]), max_size=3),
       currency=st.sampled_from(["", "USD", "AUD", "JPY"]))
def test_the_choice_never_depends_on_the_order_of_ibs_replies(
        order: list[SecurityDefinition], prefer: list[str], currency: str) -> None:
    a = choose(SymbolQuery("BHP"), order, prefer, currency)
    b = choose(SymbolQuery("BHP"), sorted(order, key=lambda s: s.con_id), prefer, currency)
    assert (a.chosen.con_id, a.rule) == (b.chosen.con_id, b.rule)


@pytest.mark.parametrize(("text", "expected"), [
    ("aapl", ("AAPL", "", "")), ("BHP:ASX", ("BHP", "ASX", "")),
    ("BHP:asx:aud", ("BHP", "ASX", "AUD")), ("SAP::EUR", ("SAP", "", "EUR")),
    (" 7203:TSEJ ", ("7203", "TSEJ", "")),
])
def test_symbol_forms(text: str, expected: tuple[str, str, str]) -> None:
    q = SymbolQuery.parse(text)
    assert (q.symbol, q.exchange, q.currency) == expected
    assert q.text == text.strip()
    assert SymbolQuery.from_json(q.to_json()) == q


@pytest.mark.parametrize("text", ["", ":ASX", "BHP:", "A:B:C:D", "BHP:ASX:"])
def test_bad_symbols(text: str) -> None:
    with pytest.raises(QueryError):
        SymbolQuery.parse(text)


def test_the_request_sent_to_ib() -> None:
    assert SymbolQuery.parse("BHP:ASX").contract_fields() == {
        "symbol": "BHP", "secType": "STK", "currency": "", "exchange": "SMART",
        "primaryExchange": "ASX"}
    direct = SymbolQuery.parse("700:SEHK:HKD", route="")
    assert direct.contract_fields()["exchange"] == "SEHK"
    assert SymbolQuery.parse("BHP").key != SymbolQuery.parse("BHP", currency="AUD").key
