"""Retry classification table and the backoff policy."""

from __future__ import annotations

import random

import pytest

from traderctl.jobs.retry import IBError, PermanentError, RetryPolicy, Verdict, classify

TABLE = [
    (IBError(162, "Historical Market Data Service error message:API historical data query "
                  "cancelled: pacing violation"), Verdict.PACING),
    (IBError(162, "Historical Market Data Service error message:HMDS query returned no data: "
                  "AAPL@SMART Trades"), Verdict.RESULT),
    (IBError(162, "Historical Market Data Service error message:Trading TWS session is "
                  "connected from a different IP address"), Verdict.RETRY),
    (IBError(1100, "Connectivity between IB and Trader Workstation has been lost."),
     Verdict.OUTAGE),
    (IBError(322, "Error processing request:-'bW' : cause - Only 50 simultaneous API "
                  "historical data requests allowed."), Verdict.PACING),
    (IBError(504, "Not connected"), Verdict.OUTAGE),
    (IBError(200, "No security definition has been found for the request"), Verdict.PERMANENT),
    (IBError(321, "Error validating request.-'bS' : cause - Invalid bar size"),
     Verdict.PERMANENT),
    (IBError(354, "Requested market data is not subscribed."), Verdict.PERMANENT),
    (IBError(9999, "something new"), Verdict.RETRY),
    (TimeoutError(), Verdict.OUTAGE),
    (ConnectionResetError(), Verdict.OUTAGE),
    (ConnectionRefusedError(), Verdict.OUTAGE),
    (OSError(28, "No space left on device"), Verdict.RETRY),
    (PermanentError("bad payload"), Verdict.PERMANENT),
    (KeyError("contract"), Verdict.PERMANENT),
    (RuntimeError("bug"), Verdict.PERMANENT),
]


@pytest.mark.parametrize(("exc", "verdict"), TABLE, ids=[repr(e)[:60] for e, _ in TABLE])
def test_classification(exc: BaseException, verdict: Verdict) -> None:
    assert classify(exc) is verdict


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=10.0, max_attempts=5)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(300)]
        assert 0.0 <= min(delays) and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # jitter spans the whole range
    assert not policy.exhausted(4) and policy.exhausted(5)
