"""One retry policy and one error classification for every job kind.

IB reports problems as (code, text) pairs; the table below says which of them are
worth another attempt. Error 162 is ambiguous: "pacing violation" is retryable (and
slows the limiter down), "HMDS query returned no data" is an answer: the job is done
with an empty result. Connectivity problems (1100, timeouts, disconnects) are
``outage``: the worker asks whether TWS is down and, if it is, pauses and gives the
attempt back instead of burning it.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass


class Verdict(enum.Enum):
    RESULT = "result"        # not an error: the job is done (e.g. no data for the period)
    RETRY = "retry"          # try again after a backoff
    PACING = "pacing"        # retry, and the limiter slows down
    OUTAGE = "outage"        # TWS may be down: pause if so, else retry
    PERMANENT = "permanent"  # no point trying again


class IBError(Exception):
    """An error reported by TWS for a request; raised by job handlers (plain data)."""

    def __init__(self, code: int, message: str, req_id: int = -1) -> None:
        super().__init__(f"IB error {code}: {message}")
        self.code = code
        self.message = message
        self.req_id = req_id


class PermanentError(Exception):
    """A handler's own way of saying: this job cannot succeed (bad payload, ...)."""


IB_CODES: dict[int, Verdict] = {
    162: Verdict.RETRY,      # historical data service error; see ib_verdict for the text
    165: Verdict.RETRY,      # historical data service query message
    322: Verdict.PACING,     # error processing request: too many requests / duplicate id
    366: Verdict.RETRY,      # no historical data query found (cancelled by TWS)
    420: Verdict.PACING,     # invalid real-time query: pacing violation
    1100: Verdict.OUTAGE,    # connectivity between IB and TWS lost
    1300: Verdict.OUTAGE,    # socket port reset
    502: Verdict.OUTAGE,     # could not connect to TWS
    504: Verdict.OUTAGE,     # not connected
    200: Verdict.PERMANENT,  # no security definition found
    321: Verdict.PERMANENT,  # error validating request
    354: Verdict.PERMANENT,  # not subscribed to the market data
    10089: Verdict.PERMANENT,  # requested market data requires additional subscription
}
NO_DATA = ("hmds query returned no data", "no data of type")
PACING = ("pacing violation",)


def ib_verdict(code: int, message: str) -> Verdict:
    text = message.lower()
    if code in (162, 165, 366) and any(marker in text for marker in NO_DATA):
        return Verdict.RESULT
    if any(marker in text for marker in PACING):
        return Verdict.PACING
    return IB_CODES.get(code, Verdict.RETRY)


def classify(exc: BaseException) -> Verdict:
    """The engine's default classification of what a handler raised."""
    if isinstance(exc, IBError):
        return ib_verdict(exc.code, exc.message)
    if isinstance(exc, PermanentError | ValueError | KeyError | TypeError):
        return Verdict.PERMANENT
    if isinstance(exc, TimeoutError | ConnectionError | EOFError):
        return Verdict.OUTAGE
    if isinstance(exc, OSError):
        return Verdict.RETRY
    return Verdict.PERMANENT  # an unexpected bug in a handler: retrying will not fix it


Classifier = Callable[[BaseException], "Verdict | None"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**(n-1)))``."""

    base: float = 2.0
    cap: float = 300.0
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return (rng or random).uniform(0.0, ceiling)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
