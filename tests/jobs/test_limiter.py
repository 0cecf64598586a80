"""The shared limiter: each rule, the budget shared by limiters on one file, slow-down,
and a property test that no rule is ever exceeded whatever the arrivals and processes."""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.jobs.conftest import Clock
from tests.jobs.rulecheck import Granted, violations
from traderctl.jobs.limiter import Grant, Limiter
from traderctl.jobs.profiles import HISTORICAL_SMALL, historical_request
from traderctl.jobs.rules import InFlight, Profile, Request, no_identical, per_group, per_window

MIXED = Profile("mixed", windows=(per_window("m.all", 6, 10.0), no_identical("m.same", 3.0),
                                  per_group("m.group", 2, 1.0)),
                in_flight=(InFlight("m.open", 3),))


def test_window_refuses_the_next_request_until_the_oldest_expires(tmp_path: Path) -> None:
    clock = Clock()
    lim = Limiter(tmp_path / "l.sqlite", clock=clock)
    profile = Profile("p", windows=(per_window("p.w", 3, 10.0),))
    for i in range(3):
        assert isinstance(lim.try_acquire(profile, Request(f"r{i}")), Grant)
        clock.now += 1
    wait = lim.try_acquire(profile, Request("r3"))
    assert isinstance(wait, float)
    assert wait == pytest.approx(7.0)  # the first grant (t=0) leaves the window at t=10
    clock.now += wait
    assert isinstance(lim.try_acquire(profile, Request("r3")), Grant)


def test_cost_counts_twice_and_identical_requests_wait(tmp_path: Path) -> None:
    clock = Clock()
    lim = Limiter(tmp_path / "l.sqlite", clock=clock)
    bid_ask = historical_request("AAPL", "SMART", "BID_ASK", end="1")
    assert bid_ask.cost == 2
    profile = Profile("p", windows=(per_group("p.g", 5, 2.0), no_identical("p.i", 15.0)))
    for end in ("1", "2"):
        assert isinstance(lim.try_acquire(profile, historical_request("AAPL", "SMART",
                                                                      "BID_ASK", end)), Grant)
    # 4 of 5 used: a third BID_ASK (2) must wait, a TRADES request (other group) need not
    assert isinstance(lim.try_acquire(profile, historical_request("AAPL", "SMART", "BID_ASK",
                                                                  "3")), float)
    assert isinstance(lim.try_acquire(profile, historical_request("AAPL", "SMART", "TRADES",
                                                                  "3")), Grant)
    clock.now += 2.0
    assert lim.try_acquire(profile, bid_ask) == pytest.approx(13.0)


def test_two_limiters_on_one_file_share_the_budget(tmp_path: Path) -> None:
    clock = Clock()
    a = Limiter(tmp_path / "l.sqlite", clock=clock)
    b = Limiter(tmp_path / "l.sqlite", clock=clock)
    profile = Profile("p", windows=(per_window("p.w", 2, 10.0),), in_flight=(InFlight("p.f", 1),))
    first = a.try_acquire(profile, Request("x"))
    assert isinstance(first, Grant)
    assert isinstance(b.try_acquire(profile, Request("y")), float)  # in flight in a
    a.release(first)
    assert isinstance(b.try_acquire(profile, Request("y")), Grant)
    assert isinstance(a.try_acquire(profile, Request("z")), float)  # window full


def test_slow_down_halves_the_limits_for_every_process_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    a = Limiter(tmp_path / "l.sqlite", clock=clock)
    b = Limiter(tmp_path / "l.sqlite", clock=clock)
    profile = Profile("p", windows=(per_window("p.w", 4, 10.0),))
    a.slow_down(profile, "IB error 162: pacing violation")
    # structlog writes to stderr, or through logging once a test configured that
    assert "limiter_slowed_down" in capsys.readouterr().err + caplog.text
    assert b.slowdown_factor("p") == 0.5
    granted = [b.try_acquire(profile, Request(str(i))) for i in range(3)]
    assert [isinstance(g, Grant) for g in granted] == [True, True, False]
    clock.now += 10.0  # the slow-down lasts one longest window
    assert b.slowdown_factor("p") == 1.0


def test_acquire_sleeps_until_granted(tmp_path: Path) -> None:
    lim = Limiter(tmp_path / "l.sqlite")
    profile = Profile("p", windows=(per_window("p.w", 2, 0.2),))

    async def main() -> list[float]:
        return [(await lim.acquire(profile, Request(str(i)))).at for i in range(5)]

    times = asyncio.run(main())
    assert not violations(profile, [Granted(t, Request(str(i))) for i, t in enumerate(times)])
    assert times[4] - times[0] >= 0.4


def test_a_request_that_can_never_pass_is_an_error(tmp_path: Path) -> None:
    lim = Limiter(tmp_path / "l.sqlite")
    with pytest.raises(ValueError, match="never pass"):
        lim.try_acquire(Profile("p", windows=(per_window("p.w", 1, 1.0),)), Request("x", cost=2))


arrivals = st.lists(st.tuples(
    st.integers(0, 3),                                   # which process
    st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.5, 1.0, 2.9, 3.0, 4.0]),  # time since the last
    st.sampled_from(["a", "b", "c"]),                    # group
    st.integers(0, 5),                                   # identity within the group
    st.sampled_from([1, 1, 2]),                          # cost
    st.booleans(),                                       # release the process's oldest grant
), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4), arrivals)
def test_no_rule_is_ever_exceeded(processes: int, pattern: list[tuple]) -> None:
    """Several limiters on one file (one per process), any arrivals: the grants obey every
    rule, and waiting as long as a refusal says is enough (when nothing is in flight)."""
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        limiters = [Limiter(Path(tmp) / "l.sqlite", clock=clock) for _ in range(processes)]
        open_grants: list[list[Grant]] = [[] for _ in limiters]
        granted: list[Granted] = []
        in_flight_peak = 0
        for proc, dt, group, ident, cost, release in pattern:
            proc %= processes
            clock.now += dt
            if release and open_grants[proc]:
                limiters[proc].release(open_grants[proc].pop(0))
            request = Request(f"{group}{ident}", group, cost)
            for _ in range(3):  # a refusal's wait, then try again
                result = limiters[proc].try_acquire(MIXED, request)
                if isinstance(result, Grant):
                    open_grants[proc].append(result)
                    granted.append(Granted(result.at, request))
                    break
                if sum(map(len, open_grants)) >= 3:
                    break  # in-flight bound: a wait cannot help until a release
                clock.now += result
            else:
                raise AssertionError("waiting the returned time did not get a grant")
            in_flight_peak = max(in_flight_peak, sum(map(len, open_grants)))
        for lim in limiters:
            lim.close()
    assert not violations(MIXED, granted)
    assert in_flight_peak <= 3


def test_the_small_bar_profile_is_ibs() -> None:
    rules = HISTORICAL_SMALL.describe()
    assert rules == ["60 per 600s", "no identical request within 15s", "5 per 2s per group"]


@pytest.mark.parametrize("stall", [0.15, 0.4, 1.5])
def test_ib_messages_never_overflow_tws_second_after_tws_stalls(tmp_path: Path,
                                                                stall: float) -> None:
    """TWS counts messages as it reads them, in a sliding second (as the simulator's
    ``MessageRate`` does). After a stall it reads a backlog at once, and its second then
    holds the backlog plus what the sender may send in a fresh second. Sixteen senders, a
    receiver that stops reading for ``stall`` seconds at t=2: no second of the receiver
    holds over 50 (without the in-flight rule: 61)."""
    from traderctl.jobs.profiles import builtin_profiles

    clock = Clock(0.0)
    lim = Limiter(tmp_path / "l.sqlite", clock=clock)
    profile = builtin_profiles()["ib_messages"]
    received: deque[float] = deque()  # when the receiver read each message
    worst = 0
    ready_at = [0.0] * 16  # when each sender next tries; inf while awaiting its reply
    backlog: list[tuple[int, Grant]] = []
    for step in range(6000):  # 6 s in steps of 1 ms
        clock.now = step / 1000
        for sender, at in enumerate(ready_at):
            if at <= clock.now:
                got = lim.try_acquire(profile, Request(f"m{step}.{sender}"))
                if isinstance(got, Grant):
                    backlog.append((sender, got))
                    ready_at[sender] = float("inf")
                else:
                    ready_at[sender] = clock.now + got
        if not 2.0 <= clock.now < 2.0 + stall:
            for sender, grant in backlog:  # read, counted, answered at once
                received.append(clock.now)
                while received[0] <= clock.now - 1.0:
                    received.popleft()
                worst = max(worst, len(received))
                lim.release(grant)
                ready_at[sender] = clock.now
            backlog.clear()
    assert worst <= 50
    assert worst >= 44  # the sender did use its budget


def test_an_until_reply_profile_counts_each_request_from_its_release(tmp_path: Path) -> None:
    """The server counts a request when it reads it, some unknown delay after our grant;
    the reply follows that count, so a window counted from the release never runs ahead
    of the server's (IB's hard historical rules at a small time scale)."""
    clock = Clock()
    lim = Limiter(tmp_path / "l.sqlite", clock=clock)
    profile = Profile("p", windows=(per_window("p.w", 2, 10.0),), until_reply=True)
    first = lim.try_acquire(profile, Request("a"))
    second = lim.try_acquire(profile, Request("b"))
    assert isinstance(first, Grant) and isinstance(second, Grant)
    clock.now += 3.0  # the first reply took 3 s: the server may have counted it that late
    lim.release(first)
    lim.release(second)
    clock.now += 7.0  # 10 s after both grants: a grant-time window would be free again
    wait = lim.try_acquire(profile, Request("c"))
    assert wait == pytest.approx(3.0)  # the first counts until 3 + 10
    clock.now += wait
    assert isinstance(lim.try_acquire(profile, Request("c")), Grant)


def test_ib_small_bar_rules_count_until_the_reply() -> None:
    assert HISTORICAL_SMALL.until_reply
    assert HISTORICAL_SMALL.scaled(0.01).until_reply
