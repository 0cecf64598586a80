"""The fake venue's books: accounts, quotes, orders, trades, ledger. Thread-safe.

Methods take the already-parsed JSON of a request and return the JSON answer, or raise
:class:`Reject` carrying the HTTP status and the venue's error code and message.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from traderctl_b2c2.sim import prices

DEFAULT_BALANCES = {"USD": "1000000", "EUR": "100000", "BTC": "10", "ETH": "100",
                    "LTC": "1000", "XRP": "100000"}


class Reject(Exception):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message}]}


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Account:
    balances: dict[str, Decimal]
    username: str
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)


class VenueState:
    def __init__(self, tokens: dict[str, dict[str, str]] | None = None,
                 quote_ttl: float = 10.0, tick_seconds: float = 1.0) -> None:
        tokens = tokens or {"sim-token": DEFAULT_BALANCES}
        self.accounts = {t: Account({k: Decimal(v) for k, v in b.items()}, f"user{i}")
                         for i, (t, b) in enumerate(tokens.items())}
        self.quote_ttl = quote_ttl
        self.tick_seconds = tick_seconds
        self.instruments = list(prices.INSTRUMENTS)
        self.lock = threading.Lock()
        self._started = time.monotonic()

    def account(self, token: str | None) -> Account:
        if token is None:
            raise Reject(401, None, "Authentication credentials were not provided.")
        if token not in self.accounts:
            raise Reject(401, None, "Invalid token.")
        return self.accounts[token]

    def tick(self) -> int:
        return int((time.monotonic() - self._started) / self.tick_seconds)

    # -- request checks shared by RFQ, order and trade --------------------------------------

    def _instrument(self, body: dict[str, Any]) -> str:
        instrument = body.get("instrument")
        if not instrument:
            raise Reject(400, 1101, "Field required: instrument.")
        if instrument not in self.instruments:
            raise Reject(400, 1001, "Instrument not allowed.")
        return str(instrument)

    @staticmethod
    def _side(body: dict[str, Any]) -> str:
        if body.get("side") not in ("buy", "sell"):
            raise Reject(400, 1017, "Illegal parameter: side must be buy or sell.")
        return str(body["side"])

    @staticmethod
    def _decimal(body: dict[str, Any], key: str) -> Decimal:
        if key not in body or body[key] is None:
            raise Reject(400, 1101, f"Field required: {key}.")
        try:
            value = Decimal(str(body[key]))
        except InvalidOperation:
            raise Reject(400, 1017, f"Illegal parameter: {key}.") from None
        if not value.is_finite() or value <= 0:
            raise Reject(400, 1017, f"Illegal parameter: {key}.")
        return value

    def _quantity(self, body: dict[str, Any]) -> Decimal:
        quantity = self._decimal(body, "quantity")
        exponent = quantity.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            raise Reject(400, 1015, "Too many decimals (4 max)")
        return quantity

    # -- RFQ and execution ------------------------------------------------------------------

    def request_for_quote(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        acct = self.account(token)
        instrument, side = self._instrument(body), self._side(body)
        quantity = self._quantity(body)
        created, rfq_id = now(), str(uuid.uuid4())
        quote: dict[str, Any] = {"rfq_id": rfq_id, "client_rfq_id": body.get("client_rfq_id"),
                 "instrument": instrument, "side": side, "quantity": str(quantity),
                 "price": str(prices.price(instrument, side, quantity, self.tick())),
                 "created": iso(created),
                 "valid_until": iso(created + timedelta(seconds=self.quote_ttl))}
        with self.lock:
            acct.quotes[rfq_id] = quote
        return quote

    def _live_quote_price(self, acct: Account, instrument: str, side: str,
                          quantity: Decimal) -> Decimal | None:
        t = iso(now())
        live = [q for q in acct.quotes.values() if q["instrument"] == instrument
                and q["side"] == side and Decimal(q["quantity"]) == quantity
                and q["valid_until"] > t]
        return Decimal(live[-1]["price"]) if live else None

    def order(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        acct = self.account(token)
        instrument, side = self._instrument(body), self._side(body)
        quantity = self._quantity(body)
        order_type = body.get("order_type", "FOK")
        if order_type not in ("FOK", "MKT"):
            raise Reject(400, 1017, "Illegal parameter: order_type.")
        self._check_valid_until(body.get("valid_until"))
        with self.lock:
            market = (self._live_quote_price(acct, instrument, side, quantity)
                      or prices.price(instrument, side, quantity, self.tick()))
            fills = order_type == "MKT" or self._within(body, side, market)
            order = {"order_id": str(uuid.uuid4()), "client_order_id":
                     body.get("client_order_id"), "instrument": instrument, "side": side,
                     "quantity": str(quantity), "price": body.get("price"),
                     "order_type": order_type, "executed_price": None,
                     "executing_unit": body.get("executing_unit"),
                     "created": iso(now()), "trades": []}
            if fills:
                trade = self._fill(acct, instrument, side, quantity, market,
                                   order_id=order["order_id"],
                                   client_order_id=body.get("client_order_id"))
                order.update(executed_price=str(market), trades=[trade])
            acct.orders.append(order)
        return order

    def _within(self, body: dict[str, Any], side: str, market: Decimal) -> bool:
        limit = self._decimal(body, "price")
        slippage = body.get("acceptable_slippage_in_basis_points") or 0
        if not isinstance(slippage, int) or not 0 <= slippage <= 20:
            raise Reject(400, 1017, "Illegal parameter: acceptable_slippage_in_basis_points.")
        tolerance = Decimal(slippage) / 10000
        if side == "buy":
            return market <= limit * (1 + tolerance)
        return market >= limit * (1 - tolerance)

    @staticmethod
    def _check_valid_until(text: Any) -> None:
        if text is None:
            raise Reject(400, 1101, "Field required: valid_until.")
        try:
            valid_until = datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise Reject(400, 1020, "valid_until is malformed.") from None
        if valid_until + timedelta(seconds=1) < now():
            raise Reject(400, 1021, "Order has expired.")

    def trade(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """Legacy execution: the RFQ named by ``rfq_id`` at its price, before it expires."""
        acct = self.account(token)
        with self.lock:
            quote = acct.quotes.get(str(body.get("rfq_id")))
            if quote is None:
                raise Reject(400, 1002, "RFQ does not belong to you.")
            for code, key in ((1003, "instrument"), (1004, "side")):
                if body.get(key) != quote[key]:
                    raise Reject(400, code, f"Different {key} than the RFQ.")
            for code, key in ((1005, "price"), (1006, "quantity")):
                if Decimal(str(body.get(key, "0"))) != Decimal(quote[key]):
                    raise Reject(400, code, f"Different {key} than the RFQ.")
            if quote["valid_until"] <= iso(now()):
                raise Reject(400, 1007, "Quote is not valid")
            trade = self._fill(acct, quote["instrument"], quote["side"],
                               Decimal(quote["quantity"]), Decimal(quote["price"]),
                               rfq_id=quote["rfq_id"], client_rfq_id=quote["client_rfq_id"])
            del acct.quotes[quote["rfq_id"]]
        return trade

    def _fill(self, acct: Account, instrument: str, side: str, quantity: Decimal,
              price: Decimal, **ids: Any) -> dict[str, Any]:
        base, quote = prices.split_pair(instrument)
        sign = 1 if side == "buy" else -1
        moves = {base: sign * quantity, quote: -sign * quantity * price}
        if instrument.endswith(".SPOT"):
            for ccy, amount in moves.items():
                if acct.balances.get(ccy, Decimal(0)) + amount < 0:
                    raise Reject(400, 1011, "Not enough balance")
        created = iso(now())
        trade = {"trade_id": str(uuid.uuid4()), "instrument": instrument, "side": side,
                 "quantity": str(quantity), "price": str(price), "created": created,
                 "origin": "rest", "user": acct.username, "order": ids.get("order_id"),
                 "rfq_id": ids.get("rfq_id"), "client_rfq_id": ids.get("client_rfq_id"),
                 "client_order_id": ids.get("client_order_id"), "executing_unit": None,
                 "cfd_contract": str(uuid.uuid4()) if instrument.endswith(".CFD") else None}
        acct.trades.append(trade)
        if instrument.endswith(".SPOT"):
            for ccy, amount in moves.items():
                acct.balances[ccy] = acct.balances.get(ccy, Decimal(0)) + amount
                acct.ledger.append({"transaction_id": str(uuid.uuid4()), "created": created,
                                    "reference": trade["trade_id"], "currency": ccy,
                                    "amount": str(amount), "type": "trade",
                                    "group": "trading"})
        return trade
