"""One exception family for everything the venue (or our own pre-flight checks) refuses.

Every error carries the HTTP status (``None`` when refused locally or on the WebSocket),
the venue's code and message, and the ``X-Request-ID`` of the request, so an operator
can quote it to B2C2 support. The API key is never part of any of them.
"""

from __future__ import annotations

from typing import Any

# Venue wording for the errors we also raise locally before sending (b2c2-api.md).
MESSAGES: dict[int, str] = {
    1007: "Quote is not valid",
    1011: "Not enough balance",
    1015: "Too many decimals (4 max)",
    1010: "Quantity is too big",
}


class B2C2Error(Exception):
    """A refused request: ``status`` (HTTP), ``code`` (venue), ``message``, ``request_id``."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 request_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or {}

    @property
    def local(self) -> bool:
        """Refused by this client before anything was sent."""
        return self.status is None and self.request_id is None

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        elif self.local:
            parts.append("refused locally")
        return f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0]

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message, "status": self.status,
                "code": self.code, "request_id": self.request_id}


class QuoteExpired(B2C2Error):
    """1007: the quote's ``valid_until`` has passed."""


class InsufficientBalance(B2C2Error):
    """1011: not enough balance for the trade."""


class TooManyDecimals(B2C2Error):
    """1015: quantities carry at most 4 decimals."""


class LimitExceeded(B2C2Error):
    """A trade above the configured ``b2c2.max_quantity`` / ``b2c2.max_notional`` (local),
    or the venue's 1010 (quantity too big)."""


class Unauthorized(B2C2Error):
    """HTTP 401 or WebSocket 3000/3001/3017: the token is missing or wrong."""


class RateLimited(B2C2Error):
    """HTTP 429 after the client's retries; ``retry_after`` in seconds when the venue said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class TransportError(B2C2Error):
    """The venue could not be reached, or answered something that is not the API."""


class StreamError(B2C2Error):
    """An error frame on the WebSocket (codes 3000-4000)."""


BY_CODE: dict[int, type[B2C2Error]] = {
    1007: QuoteExpired, 1021: QuoteExpired, 1011: InsufficientBalance,
    1015: TooManyDecimals, 1010: LimitExceeded,
}
BY_STATUS: dict[int, type[B2C2Error]] = {401: Unauthorized, 429: RateLimited}


def error_class(status: int | None, code: int | None) -> type[B2C2Error]:
    """The most specific class for a venue answer: the code wins over the status."""
    if code is not None and code in BY_CODE:
        return BY_CODE[code]
    if status is not None and status in BY_STATUS:
        return BY_STATUS[status]
    return B2C2Error


def refused_locally(code: int, cls: type[B2C2Error], detail: str = "") -> B2C2Error:
    """An error with the venue's wording for ``code``, raised before sending."""
    message = MESSAGES[code] + (f": {detail}" if detail else "")
    return cls(message, code=code)
