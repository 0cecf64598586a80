"""The REST API as one declarative table: method, path, request model, response model.

Each row is an :class:`Endpoint` descriptor on :class:`Api`; the client inherits the table,
and reading a row from an instance gives a typed call (``client.balance() -> Balances``,
``client.request_for_quote(RFQRequest(...)) -> Quote``) that mypy checks without a plugin.
Path placeholders (``{order_id}``) are filled from the request model; the remaining fields
become the query string (GET, DELETE) or the JSON body (POST).
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from pydantic import BaseModel

from traderctl_b2c2 import models as m

if TYPE_CHECKING:
    from traderctl_b2c2.rest import RestClient

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
Method = Literal["GET", "POST", "DELETE"]


@dataclass(frozen=True)
class Endpoint(Generic[Req, Resp]):
    method: Method
    path: str
    request: type[Req]
    response: type[Resp]
    doc: str = ""
    name: str = field(default="", compare=False)

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)

    @overload
    def __get__(self, obj: None, owner: type) -> Endpoint[Req, Resp]: ...
    @overload
    def __get__(self, obj: RestClient, owner: type) -> Call[Req, Resp]: ...
    def __get__(self, obj: RestClient | None, owner: type
                ) -> Endpoint[Req, Resp] | Call[Req, Resp]:
        return self if obj is None else Call(self, obj)

    @property
    def path_fields(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.path) if name]

    def split(self, request: Req) -> tuple[str, dict[str, Any]]:
        """The concrete path and the remaining fields (JSON-ready: Decimals as strings)."""
        data = request.model_dump(mode="json", exclude_none=True)
        path = self.path.format(**{k: data.pop(k) for k in self.path_fields})
        return path, data


@dataclass(frozen=True)
class Call(Generic[Req, Resp]):
    """An endpoint bound to a client; calling it sends one request."""

    endpoint: Endpoint[Req, Resp]
    client: RestClient

    def __call__(self, request: Req | None = None) -> Resp:
        """``request`` may be left out for endpoints whose request model needs nothing."""
        return self.client.send(self.endpoint, request)[0]


ItemT = TypeVar("ItemT")


class Api:
    """The table. Names follow the venue's paths; history endpoints take HistoryQuery."""

    instruments = Endpoint("GET", "/instruments/", m.NoParams, m.Page[m.Instrument],
                           "Instruments you may trade")
    currency = Endpoint("GET", "/currency/", m.NoParams, m.Currencies,
                        "Currencies and their minimum trade sizes")
    balance = Endpoint("GET", "/balance/", m.NoParams, m.Balances, "Balance per currency")
    account_info = Endpoint("GET", "/account_info/", m.NoParams, m.AccountInfo,
                            "Risk exposure and per-trade limits")
    request_for_quote = Endpoint("POST", "/request_for_quote/", m.RFQRequest, m.Quote,
                                 "Ask for a price valid for a few seconds")
    order = Endpoint("POST", "/order/", m.OrderRequest, m.Order, "FOK or MKT order")
    trade = Endpoint("POST", "/trade/", m.TradeRequest, m.Trade, "Legacy RFQ execution")
    order_history = Endpoint("GET", "/order/", m.HistoryQuery, m.Page[m.Order], "Orders")
    order_detail = Endpoint("GET", "/order/{order_id}/", m.OrderId, m.Order, "One order")
    trade_history = Endpoint("GET", "/trade/", m.HistoryQuery, m.Page[m.Trade], "Trades")
    trade_detail = Endpoint("GET", "/trade/{trade_id}/", m.TradeId, m.Trade, "One trade")
    ledger = Endpoint("GET", "/ledger/", m.HistoryQuery, m.Page[m.LedgerEntry],
                      "Ledger rows: two per trade, transfers, funding")
    margin_requirements = Endpoint("GET", "/margin_requirements/", m.MarginQuery,
                                   m.MarginRequirement, "CFD margin")
    open_positions = Endpoint("GET", "/open_positions/", m.NoParams, m.Page[m.OpenPosition],
                              "Open CFD positions")

    @classmethod
    def endpoints(cls) -> Iterator[Endpoint[Any, Any]]:
        for value in vars(cls).values():
            if isinstance(value, Endpoint):
                yield value
