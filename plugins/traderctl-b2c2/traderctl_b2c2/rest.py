"""The typed REST client: sends the rows of :class:`~traderctl_b2c2.endpoints.Api`.

Every request carries ``Authorization: Token``, a fresh ``X-Request-ID`` and a versioned
``User-Agent``; 429 is retried after the venue's ``Retry-After`` (or an exponential
backoff); every other refusal becomes a :class:`~traderctl_b2c2.errors.B2C2Error`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import requests
from pydantic import BaseModel, ValidationError

from traderctl_b2c2 import models as m
from traderctl_b2c2.endpoints import Api, Endpoint, Req, Resp
from traderctl_b2c2.errors import (
    B2C2Error,
    LimitExceeded,
    RateLimited,
    TransportError,
    error_class,
)
from traderctl_b2c2.identity import user_agent

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Limits:
    """Per-trade ceilings from ``b2c2.max_quantity`` / ``b2c2.max_notional`` (None = none)."""

    max_quantity: Decimal | None = None
    max_notional: Decimal | None = None

    def check(self, quantity: Decimal, price: Decimal | None) -> None:
        if self.max_quantity is not None and quantity > self.max_quantity:
            raise LimitExceeded(f"quantity {quantity} is above b2c2.max_quantity "
                                f"{self.max_quantity}")
        if (self.max_notional is not None and price is not None
                and quantity * price > self.max_notional):
            raise LimitExceeded(f"notional {quantity * price} is above b2c2.max_notional "
                                f"{self.max_notional}")


class RestClient(Api):
    def __init__(self, api_url: str, api_key: str, *, timeout: float = 10.0,
                 limits: Limits | None = None, max_retries: int = 3,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.limits = limits or Limits()
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._session = session or requests.Session()
        self.last_request_id: str | None = None

    def __repr__(self) -> str:  # never the key
        return f"RestClient({self.api_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def headers(self, request_id: str) -> dict[str, str]:
        return {"Authorization": f"Token {self._api_key}", "X-Request-ID": request_id,
                "User-Agent": user_agent(), "Accept": "application/json"}

    # -- the one place a request is made ---------------------------------------------------

    def send(self, endpoint: Endpoint[Req, Resp], request: Req | None = None
             ) -> tuple[Resp, Mapping[str, str]]:
        """Send one row of the table; the parsed answer and the response headers."""
        if request is None:
            request = endpoint.request()
        self._check_limits(request)
        path, data = endpoint.split(request)
        for attempt in range(self.max_retries + 1):
            response, request_id = self._http(endpoint.method, path, data)
            if response.status_code != 429 or attempt == self.max_retries:
                break
            self._sleep(self._retry_delay(response, attempt))
        if response.status_code >= 400:
            raise self._error(response, request_id)
        return self._parse(endpoint, response, request_id), response.headers

    def _http(self, method: str, path: str, data: dict[str, Any]
              ) -> tuple[requests.Response, str]:
        request_id = str(uuid.uuid4())
        self.last_request_id = request_id
        body = data if method == "POST" else None
        params = None if method == "POST" else data
        try:
            response = self._session.request(
                method, self.api_url + path, json=body, params=params,
                headers=self.headers(request_id), timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}: "
                                 f"{_reason(exc)}", request_id=request_id) from None
        return response, request_id

    def _retry_delay(self, response: requests.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        try:
            return max(float(header), 0.0)
        except ValueError:
            return self.backoff * 2 ** attempt

    def _parse(self, endpoint: Endpoint[Req, Resp], response: requests.Response,
               request_id: str) -> Resp:
        try:
            payload = response.json() if response.content else {}
            result = endpoint.response.model_validate(payload)
        except (ValueError, ValidationError) as exc:
            raise TransportError(f"{endpoint.method} {endpoint.path}: unexpected answer: "
                                 f"{str(exc).splitlines()[0]}", status=response.status_code,
                                 request_id=request_id) from None
        if isinstance(result, m.Quote):
            result.bind(self)
        return result

    def _error(self, response: requests.Response, request_id: str) -> B2C2Error:
        code, message, details = _venue_error(response)
        cls = error_class(response.status_code, code)
        kwargs: dict[str, Any] = {"status": response.status_code, "code": code,
                                  "request_id": request_id, "details": details}
        if cls is RateLimited:
            kwargs["retry_after"] = _float(response.headers.get("Retry-After"))
        return cls(message, **kwargs)

    def _check_limits(self, request: BaseModel) -> None:
        if isinstance(request, m.OrderRequest | m.TradeRequest):
            self.limits.check(request.quantity, request.price)

    # -- conveniences on top of the table ---------------------------------------------------

    def rfq(self, instrument: str, side: m.Side, quantity: Decimal | str) -> m.Quote:
        return self.request_for_quote(m.RFQRequest(instrument=instrument, side=side,
                                                   quantity=Decimal(quantity)))

    def paginate(self, endpoint: Endpoint[m.HistoryQuery, m.Page[ItemT]],
                 query: m.HistoryQuery | None = None, max_items: int | None = None
                 ) -> Iterator[ItemT]:
        """Every item, following the ``Link`` cursor when the venue sends one, else offsets."""
        query = query or m.HistoryQuery()
        seen = 0
        while True:
            page, headers = self.send(endpoint, query)
            for item in page.root:
                if max_items is not None and seen >= max_items:
                    return
                seen += 1
                yield item
            following = _next_query(query, headers, len(page.root))
            if following is None:
                return
            query = following


def _next_query(query: m.HistoryQuery, headers: Mapping[str, str], count: int
                ) -> m.HistoryQuery | None:
    cursor = _link_cursor(headers.get("Link", ""))
    if cursor:
        return query.model_copy(update={"cursor": cursor, "offset": None})
    limit = query.limit or 50
    if count < limit or query.cursor:
        return None
    return query.model_copy(update={"offset": (query.offset or 0) + count})


def _link_cursor(link: str) -> str | None:
    for part in link.split(","):
        if 'rel="next"' in part and "<" in part:
            url = part[part.index("<") + 1:part.index(">")]
            values = parse_qs(urlsplit(url).query).get("cursor")
            return values[0] if values else None
    return None


def _venue_error(response: requests.Response) -> tuple[int | None, str, dict[str, Any]]:
    """``{"errors": [{"code", "message", ...}]}``, or DRF's ``{"detail": ...}``, or text."""
    try:
        body = response.json()
    except ValueError:
        return None, response.reason or f"HTTP {response.status_code}", {}
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        return (code if isinstance(code, int) else None,
                str(first.get("message") or response.reason), {"errors": errors})
    if isinstance(body, dict) and "detail" in body:
        return None, str(body["detail"]), {}
    return None, response.reason or f"HTTP {response.status_code}", {}


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _reason(exc: requests.RequestException) -> str:
    """The cause without the URL's query string or any header (no secrets in error text)."""
    text = str(exc)
    return text.split(" (Caused by ")[-1].rstrip(")") if "Caused by" in text else text
