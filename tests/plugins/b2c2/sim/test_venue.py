"""The fake venue's wire shapes and error codes, spoken to with bare HTTP and WebSocket
(no client of ours in between)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from websockets.asyncio.client import connect

from traderctl_b2c2.sim import FakeVenue


def call(venue: FakeVenue, method: str, path: str, body: Any = None,
         token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Token {token or venue.token}"}
    return requests.request(method, venue.api_url + path, json=body, headers=headers,
                            timeout=5)


def code(response: requests.Response) -> int:
    return int(response.json()["errors"][0]["code"])


def test_numbers_are_strings_and_timestamps_utc(venue: FakeVenue) -> None:
    quote = call(venue, "POST", "/request_for_quote/",
                 {"instrument": "BTCUSD.SPOT", "side": "buy", "quantity": "1",
                  "client_rfq_id": "c-1"}).json()
    assert isinstance(quote["price"], str) and quote["client_rfq_id"] == "c-1"
    assert quote["valid_until"].endswith("Z") and quote["created"].endswith("Z")
    assert all(isinstance(v, str) for v in call(venue, "GET", "/balance/").json().values())


def test_legacy_trade_checks_the_rfq(venue: FakeVenue) -> None:
    quote = call(venue, "POST", "/request_for_quote/",
                 {"instrument": "ETHUSD.SPOT", "side": "sell", "quantity": "2"}).json()
    base = {k: quote[k] for k in ("rfq_id", "instrument", "side", "price", "quantity")}
    for change, expected in (({"rfq_id": "nope"}, 1002), ({"instrument": "BTCUSD.SPOT"}, 1003),
                             ({"side": "buy"}, 1004), ({"price": "1"}, 1005),
                             ({"quantity": "3"}, 1006)):
        assert code(call(venue, "POST", "/trade/", {**base, **change})) == expected
    assert call(venue, "POST", "/trade/", base).json()["rfq_id"] == quote["rfq_id"]
    assert code(call(venue, "POST", "/trade/", base)) == 1002  # an RFQ executes once


def test_order_validity_and_parameters(venue: FakeVenue) -> None:
    order = {"instrument": "BTCUSD.SPOT", "side": "buy", "quantity": "1", "price": "60000",
             "order_type": "FOK", "client_order_id": "o-1"}
    soon = (datetime.now(UTC) + timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S")
    past = (datetime.now(UTC) - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S")
    assert code(call(venue, "POST", "/order/", {**order, "valid_until": "tomorrow"})) == 1020
    assert code(call(venue, "POST", "/order/", {**order, "valid_until": past})) == 1021
    assert code(call(venue, "POST", "/order/", {**order, "valid_until": soon,
                                                "acceptable_slippage_in_basis_points": 21})
                ) == 1017
    assert code(call(venue, "POST", "/order/", {**order, "valid_until": soon,
                                                "order_type": "LIMIT"})) == 1017
    filled = call(venue, "POST", "/order/", {**order, "valid_until": soon}).json()
    assert filled["executed_price"] and filled["client_order_id"] == "o-1"
    assert call(venue, "GET", "/order/o-1/").json()["order_id"] == filled["order_id"]
    market = call(venue, "POST", "/order/", {**order, "order_type": "MKT", "price": None,
                                             "valid_until": soon}).json()
    assert market["executed_price"] and len(market["trades"]) == 1


def test_http_errors(venue: FakeVenue) -> None:
    assert call(venue, "GET", "/balance/", token="bad").status_code == 401
    assert requests.get(venue.api_url + "/balance/", timeout=5).json() == {
        "detail": "Authentication credentials were not provided."}
    assert call(venue, "GET", "/nothing/").status_code == 404
    assert call(venue, "POST", "/balance/").status_code == 405
    assert code(call(venue, "GET", "/trade/?offset=20000")) == 1102
    assert code(call(venue, "GET", "/trade/?limit=101")) == 1017
    raw = requests.post(venue.api_url + "/order/", data=b"{not json", timeout=5,
                        headers={"Authorization": f"Token {venue.token}"})
    assert raw.status_code == 406


def test_fault_switches_over_http(venue: FakeVenue) -> None:
    state = call(venue, "POST", "/_sim/faults/", {"rate_limit": 1, "retry_after": 2}).json()
    assert state["rate_limit"] == 1
    throttled = call(venue, "GET", "/balance/")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert call(venue, "GET", "/balance/").status_code == 200
    assert call(venue, "POST", "/_sim/faults/", {"stop_pricing": True}).json()["stop_pricing"]


def test_websocket_protocol_errors(venue: FakeVenue) -> None:
    async def main() -> list[dict[str, Any]]:
        frames = []
        async with connect(venue.ws_url, additional_headers={
                "Authorization": f"Token {venue.token}"}) as ws:
            frames.append(json.loads(await ws.recv()))
            for message in ("{oops", json.dumps({"event": "dance"}),
                            json.dumps({"event": "unsubscribe", "instrument": "BTCUSD.SPOT",
                                        "tag": "t0"}),
                            json.dumps({"event": "subscribe", "instrument": "BTCUSD.SPOT",
                                        "levels": [1], "tag": "t1"}),
                            json.dumps({"event": "subscribe", "instrument": "BTCUSD.SPOT",
                                        "levels": [1], "tag": "t2"}),
                            json.dumps({"event": "subscribe", "instrument": "BTCUSD.SPOT",
                                        "levels": [], "tag": "t3"})):
                await ws.send(message)
            while len(frames) < 7:
                frame = json.loads(await ws.recv())
                if frame["event"] != "price":
                    frames.append(frame)
        return frames

    frames = asyncio.run(main())
    assert frames[0]["event"] == "tradable_instruments" and frames[0]["success"] is True
    assert [f.get("error_code") for f in frames[1:]] == [3005, 3011, 3008, None, 3007, 3004]
    assert frames[4] == {"event": "subscribe", "instrument": "BTCUSD.SPOT", "levels": [1],
                         "tag": "t1", "success": True}


def test_websocket_without_token(venue: FakeVenue) -> None:
    async def main() -> dict[str, Any]:
        async with connect(venue.ws_url) as ws:
            return dict(json.loads(await ws.recv()))

    frame = asyncio.run(main())
    assert frame["success"] is False and frame["error_code"] == 3001
