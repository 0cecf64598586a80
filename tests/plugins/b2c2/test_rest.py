"""The typed REST client against the fake venue over real HTTP."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from traderctl_b2c2 import models as m
from traderctl_b2c2.endpoints import Api
from traderctl_b2c2.errors import (
    B2C2Error,
    InsufficientBalance,
    LimitExceeded,
    QuoteExpired,
    RateLimited,
    TooManyDecimals,
    TransportError,
    Unauthorized,
)
from traderctl_b2c2.rest import Limits, RestClient
from traderctl_b2c2.sim import FakeVenue


def test_table_lists_every_endpoint_once() -> None:
    rows = {(e.method, e.path) for e in Api.endpoints()}
    assert ("POST", "/request_for_quote/") in rows and ("GET", "/ledger/") in rows
    assert len(rows) == len(list(Api.endpoints())) == 14


def test_reference_data(client: RestClient) -> None:
    names = [i.name for i in client.instruments().root]
    assert "BTCUSD.SPOT" in names and "BTCUSD.CFD" in names
    assert client.currency().root["BTC"].minimum_trade_size == Decimal("0.0001")
    assert client.account_info().currency == "USD"
    assert client.balance().root["BTC"] == Decimal(10)


def test_every_request_carries_token_fresh_id_and_versioned_agent(
        venue: FakeVenue, client: RestClient) -> None:
    client.balance()
    client.balance()
    first, second = venue.http.seen[-2:]
    assert first["auth_scheme"] == "Token"
    assert first["request_id"] != second["request_id"]
    uuid.UUID(str(first["request_id"]))
    assert str(first["user_agent"]).startswith("traderctl-b2c2/0.1.0 traderctl/")


def test_quote_knows_expiry_and_executes_itself(client: RestClient) -> None:
    quote = client.rfq("BTCUSD.SPOT", "buy", "0.5")
    assert isinstance(quote.price, Decimal) and quote.valid_until.tzinfo is not None
    assert timedelta(seconds=8) < quote.time_left() <= timedelta(seconds=10)
    before = client.balance().root
    order = quote.execute()
    assert order.filled and order.executed_price == quote.price
    assert order.trades[0].quantity == Decimal("0.5")
    after = client.balance().root
    assert after["BTC"] == before["BTC"] + Decimal("0.5")
    assert after["USD"] == before["USD"] - Decimal("0.5") * quote.price


def test_fok_below_quote_is_rejected_not_filled(client: RestClient) -> None:
    quote = client.rfq("ETHUSD.SPOT", "buy", "2")
    order = client.order(m.OrderRequest(
        instrument="ETHUSD.SPOT", side="buy", quantity=Decimal(2),
        price=quote.price * Decimal("0.99"), valid_until=quote.valid_until,
        acceptable_slippage_in_basis_points=5))
    assert not order.filled and order.trades == []
    assert client.balance().root["ETH"] == Decimal(100)


def test_slippage_lets_a_slightly_worse_limit_fill(client: RestClient) -> None:
    quote = client.rfq("ETHUSD.SPOT", "sell", "1")
    order = client.order(m.OrderRequest(
        instrument="ETHUSD.SPOT", side="sell", quantity=Decimal(1),
        price=quote.price * Decimal("1.001"), valid_until=quote.valid_until,
        acceptable_slippage_in_basis_points=20))
    assert order.filled and order.executed_price == quote.price


def test_legacy_trade_and_histories(client: RestClient) -> None:
    trade = client.rfq("LTCUSD.SPOT", "sell", "3").execute_legacy()
    assert trade.rfq_id and trade.created.tzinfo == UTC
    assert client.trade_detail(m.TradeId(trade_id=trade.trade_id)) == trade
    ledger = list(client.paginate(Api.ledger, m.HistoryQuery(currency="LTC")))
    assert [e.amount for e in ledger] == [Decimal(-3)]
    assert [t.trade_id for t in client.paginate(Api.trade_history)] == [trade.trade_id]


@pytest.mark.parametrize("cursor_pages", [True, False])
def test_pagination_follows_cursor_or_offset(cursor_pages: bool) -> None:
    with FakeVenue(cursor_pages=cursor_pages) as venue, \
            RestClient(venue.api_url, venue.token) as client:
        made = {client.rfq("XRPUSD.SPOT", "buy", "10").execute().order_id for _ in range(7)}
        seen = [o.order_id for o in client.paginate(Api.order_history, m.HistoryQuery(limit=3))]
        assert len(seen) == 7 and set(seen) == made
        assert len(venue.http.seen) == 7 * 2 + 3
        assert [o.order_id for o in client.paginate(
            Api.order_history, m.HistoryQuery(limit=3), max_items=4)] == seen[:4]


def test_history_filters_by_time(client: RestClient) -> None:
    client.rfq("BTCUSD.SPOT", "buy", "0.1").execute()
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert list(client.paginate(Api.trade_history, m.HistoryQuery(since=later))) == []
    assert len(list(client.paginate(Api.trade_history,
                                    m.HistoryQuery(created__lt=later)))) == 1


def test_too_many_decimals_refused_locally_with_venue_wording(
        venue: FakeVenue, client: RestClient) -> None:
    sent = len(venue.http.seen)
    with pytest.raises(TooManyDecimals) as info:
        client.rfq("BTCUSD.SPOT", "buy", "0.00001")
    assert info.value.code == 1015 and info.value.local
    assert "Too many decimals (4 max)" in str(info.value)
    assert len(venue.http.seen) == sent


def test_venue_refuses_too_many_decimals_too(client: RestClient) -> None:
    # what a client without the local check would get: the same code from the venue
    request = m.RFQRequest.model_construct(instrument="BTCUSD.SPOT", side="buy",
                                           quantity=Decimal("0.00001"), client_rfq_id="x")
    with pytest.raises(TooManyDecimals) as info:
        client.request_for_quote(request)
    assert info.value.status == 400 and info.value.request_id == client.last_request_id


def test_expired_quote_refused_locally_and_by_venue() -> None:
    with FakeVenue(quote_ttl=0.3) as venue, RestClient(venue.api_url, venue.token) as client:
        quote = client.rfq("BTCUSD.SPOT", "buy", "1")
        time.sleep(0.4)
        assert quote.expired() and quote.time_left() == timedelta(0)
        with pytest.raises(QuoteExpired) as local:
            quote.execute()
        assert local.value.local and local.value.code == 1007
        with pytest.raises(QuoteExpired) as remote:
            client.trade(m.TradeRequest(rfq_id=quote.rfq_id, instrument=quote.instrument,
                                        side=quote.side, price=quote.price,
                                        quantity=quote.quantity))
        assert remote.value.status == 400 and remote.value.request_id


def test_insufficient_balance(client: RestClient) -> None:
    with pytest.raises(InsufficientBalance) as info:
        client.rfq("BTCUSD.SPOT", "sell", "11").execute()
    assert info.value.code == 1011 and info.value.status == 400
    assert client.balance().root["BTC"] == Decimal(10)


def test_bad_token_is_unauthorized_and_never_echoed(venue: FakeVenue) -> None:
    with RestClient(venue.api_url, "wrong-secret-key") as client, \
            pytest.raises(Unauthorized) as info:
        client.balance()
    assert info.value.status == 401 and info.value.request_id
    assert "wrong-secret-key" not in str(info.value) + repr(info.value.to_dict())
    assert "wrong-secret-key" not in repr(client)


def test_rate_limit_retried_after_backoff(venue: FakeVenue) -> None:
    waits: list[float] = []
    venue.faults.rate_limit, venue.faults.retry_after = 2, 0.25
    with RestClient(venue.api_url, venue.token, sleep=waits.append) as client:
        assert client.balance().root["USD"] == Decimal(1_000_000)
    assert waits == [0.25, 0.25]
    venue.faults.rate_limit = 10
    with RestClient(venue.api_url, venue.token, sleep=waits.append, max_retries=1) as client, \
            pytest.raises(RateLimited) as info:
        client.balance()
    assert info.value.status == 429 and info.value.retry_after == 0.25


def test_limits_refuse_before_sending(venue: FakeVenue) -> None:
    limits = Limits(max_quantity=Decimal(1), max_notional=Decimal(1000))
    with RestClient(venue.api_url, venue.token, limits=limits) as client:
        with pytest.raises(LimitExceeded, match="max_quantity"):
            client.rfq("BTCUSD.SPOT", "buy", "2").execute()
        with pytest.raises(LimitExceeded, match="max_notional"):
            client.rfq("BTCUSD.SPOT", "buy", "0.5").execute()
        assert client.rfq("LTCUSD.SPOT", "buy", "1").execute().filled


def test_unknown_instrument_carries_code(client: RestClient) -> None:
    with pytest.raises(B2C2Error) as info:
        client.rfq("DOGUSD.SPOT", "buy", "1")
    assert info.value.code == 1001 and type(info.value) is B2C2Error


def test_unreachable_venue_is_a_transport_error() -> None:
    with RestClient("http://127.0.0.1:9", "k", timeout=2) as client, \
            pytest.raises(TransportError) as info:
        client.balance()
    assert info.value.status is None and info.value.request_id


def test_cfd_positions_and_margin(client: RestClient) -> None:
    client.rfq("BTCUSD.CFD", "buy", "2").execute()
    (position,) = client.open_positions().root
    assert position.instrument == "BTCUSD.CFD" and position.agg_position == Decimal(2)
    assert client.margin_requirements(m.MarginQuery(currency="USD")).margin_requirement


def test_decimals_sent_as_strings_and_valid_until_format() -> None:
    request = m.OrderRequest(instrument="BTCUSD.SPOT", side="buy", quantity=Decimal("1.5"),
                             price=Decimal("50000.10"),
                             valid_until=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC))
    path, body = Api.order.split(request)
    assert path == "/order/"
    assert body["quantity"] == "1.5" and body["price"] == "50000.10"
    assert body["valid_until"] == "2026-01-02T03:04:06"  # rounded up, never before
    with pytest.raises(ValueError):
        m.OrderRequest(instrument="X", side="buy", quantity=Decimal(1),
                       valid_until=datetime(2026, 1, 2))  # noqa: DTZ001 (naive is refused)
