"""Real worker processes on one store: kill -9 and restart, two workers at once,
graceful stop, cancellation, retries."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable

from tests.daemon.conftest import wait_until
from tests.jobs.conftest import JobsEnv, submit
from tests.jobs.rulecheck import Granted, violations
from traderctl.jobs.model import JobFilter
from traderctl.jobs.profiles import HISTORICAL_SMALL
from traderctl.jobs.rules import Request


def test_kill_9_mid_batch_then_restart_every_job_done_once(
        jobs_env: Callable[..., JobsEnv]) -> None:
    env = jobs_env("concurrency: 4\n")
    submit(env, "test.record", [(f"k{i:03}", {"sleep": 0.05}) for i in range(120)])
    first = env.worker()
    wait_until(lambda: len(env.runs("start")) >= 30, 30, "the first worker to be busy")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    with env.store() as store:
        at_kill = store.counts()
    assert at_kill["done"] < 120, "the worker finished before it was killed"
    in_flight = {r["key"] for r in env.runs("start")} - done_keys(env)
    run = env.cli("jobs", "worker", "--until-done")
    assert run.returncode == 0, run.stderr
    with env.store() as store:
        jobs = store.jobs(JobFilter())
    assert Counter(j.state for j in jobs) == {"done": 120}
    assert {j.result["key"] for j in jobs} == {j.key for j in jobs}  # each result recorded once
    starts = Counter(r["key"] for r in env.runs("start"))
    assert set(starts) == {j.key for j in jobs}                      # none lost
    twice = {k for k, n in starts.items() if n > 1}
    assert twice <= in_flight and len(twice) <= 4  # only what ran at the kill ran again


def done_keys(env: JobsEnv) -> set[str]:
    with env.store() as store:
        return {j.key for j in store.jobs(JobFilter(state="done"))}


def test_two_workers_share_the_store_and_the_pacing_budget(
        jobs_env: Callable[..., JobsEnv]) -> None:
    scale = 0.005  # IB's 10 minutes become 3 s
    env = jobs_env(f"concurrency: 8\ntime_scale: {scale}\n")
    items = [(f"{i:03}", {"contract": f"C{i % 3}", "what": "BID_ASK" if i % 4 == 0 else "TRADES"})
             for i in range(90)]
    submit(env, "test.paced", items)
    workers = [env.worker(), env.worker()]
    for proc in workers:  # the CLI run of a third process joins the same budget
        assert proc.poll() is None
    run = env.cli("jobs", "worker", "--until-done", timeout=120)
    assert run.returncode == 0, run.stderr
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    grants = env.runs("grant")
    assert Counter(g["key"] for g in grants) == {k: 1 for k, _ in items}  # none ran twice
    assert len({g["pid"] for g in grants}) >= 2
    nominal = HISTORICAL_SMALL.scaled(scale)
    recorded = [Granted(g["t"], Request(g["identity"], g["group"], g["cost"])) for g in grants]
    assert not violations(nominal, recorded)
    cost = sum(g["cost"] for g in grants)
    assert cost > 60  # so the 60-per-window rule had to hold some back
    span = max(g["t"] for g in grants) - min(g["t"] for g in grants)
    assert span >= 600 * scale * ((cost - 1) // 60) * 0.99


def test_sigterm_lets_jobs_finish_within_grace_then_returns_them(
        jobs_env: Callable[..., JobsEnv]) -> None:
    env = jobs_env("concurrency: 2\ngrace: 300ms\n")
    submit(env, "test.record", [("quick", {"sleep": 0.1}), ("slow", {"sleep": 30})])
    proc = env.worker()
    wait_until(lambda: len(env.runs("start")) == 2, 30, "both jobs to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    with env.store() as store:
        by_key = {j.key: j for j in store.jobs(JobFilter())}
    assert by_key["quick"].state == "done"
    assert (by_key["slow"].state, by_key["slow"].attempts) == ("pending", 0)
    assert "jobs_released" in env.stderr()


def test_cancelling_a_running_job_stops_it(jobs_env: Callable[..., JobsEnv]) -> None:
    env = jobs_env("lease: 1s\n")
    submit(env, "test.record", [("long", {"sleep": 60}), ("next", {"sleep": 0})])
    proc = env.worker()
    wait_until(lambda: env.runs("start"), 30, "the job to start")
    run = env.cli("jobs", "cancel", "--state", "running", "--all")
    assert run.returncode == 0 and "cancel: 1 job" in run.stdout
    wait_until(lambda: "job_cancelled" in env.stderr(), 10, "the worker to stop the job")
    wait_until(lambda: done_keys(env) == {"next"}, 10, "the next job to run")
    with env.store() as store:
        assert store.jobs(JobFilter(state="cancelled"))[0].key == "long"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0


def test_retryable_errors_back_off_permanent_ones_fail_no_data_is_a_result(
        jobs_env: Callable[..., JobsEnv]) -> None:
    env = jobs_env()
    pacing = [162, "API historical data query cancelled: pacing violation"]
    submit(env, "test.flaky", [
        ("recovers", {"errors": [pacing, [322, "Only 50 simultaneous requests"]]}),
        ("permanent", {"errors": [[200, "No security definition has been found"]]}),
        ("no-data", {"errors": [[162, "HMDS query returned no data: XYZ@SMART Trades"]]}),
        ("gives-up", {"errors": [pacing, pacing, pacing, pacing]}),
    ])
    started = time.monotonic()
    run = env.cli("jobs", "worker", "--until-done")
    assert time.monotonic() - started < 30
    assert run.returncode == 1  # some jobs failed
    with env.store() as store:
        jobs = {j.key: j for j in store.jobs(JobFilter())}
    assert (jobs["recovers"].state, jobs["recovers"].attempts) == ("done", 3)
    assert (jobs["permanent"].state, jobs["permanent"].attempts) == ("failed", 1)
    assert "No security definition" in str(jobs["permanent"].last_error)
    assert jobs["no-data"].state == "done" and jobs["no-data"].result["no_data"] is True
    assert jobs["gives-up"].state == "failed"
    assert str(jobs["gives-up"].last_error).startswith("gave up after 3 attempts")
    assert "limiter_slowed_down" in run.stderr
    shown = json.loads(env.cli("jobs", "show", str(jobs["permanent"].id), "--json").stdout)
    assert shown["state"] == "failed" and shown["attempts"] == 1
