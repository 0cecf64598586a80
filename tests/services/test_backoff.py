from __future__ import annotations

import random

from traderctl.services.backoff import Backoff, StartLimit


def test_backoff_sequence_and_reset() -> None:
    b = Backoff({"initial": 1.0, "factor": 2.0, "max": 5.0, "jitter": 0.0})
    assert [b.next_delay() for _ in range(6)] == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0]
    b.reset()
    assert b.next_delay() == 0.0


def test_jitter_stays_within_bounds() -> None:
    b = Backoff({"initial": 10.0, "factor": 1.0, "max": 60.0, "jitter": 0.2},
                rng=random.Random(1))
    b.next_delay()
    delays = [b.next_delay() for _ in range(200)]
    assert min(delays) >= 8.0 and max(delays) <= 12.0 and len(set(delays)) > 100


def test_start_limit_window() -> None:
    limit = StartLimit({"burst": 3, "interval": 10.0})
    assert [limit.record(t) for t in (0, 1, 2)] == [False, False, False]
    assert limit.record(3) is True
    limit.reset()
    assert [limit.record(t) for t in (20, 31, 42, 53)] == [False, False, False, False]
