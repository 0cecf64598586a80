"""Workers pause while TWS is frozen or its service is stopped, and resume on their own,
without burning attempts."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.daemon.conftest import Daemon, daemon, wait_until  # noqa: F401 (fixture)
from tests.jobs.conftest import JobsEnv, submit
from traderctl.jobs.model import JobFilter

# ib_async keys reqCurrentTime by name, not request id: two at once on one connection
# share one answer, so the test kind runs one at a time
CONCURRENCY = "concurrency: 1\n"


def states(env: JobsEnv) -> dict[str, Any]:
    with env.store() as store:
        return {j.key: (j.state, j.attempts) for j in store.jobs(JobFilter())}


def test_a_frozen_tws_pauses_the_worker_until_it_answers_again(
        jobs_env: Callable[..., JobsEnv], sim_tws: Any) -> None:
    env = jobs_env()
    env.write_config(CONCURRENCY + "probe_timeout: 1s\npoll: 100ms\n",
                     extra=f"ib:\n  host: 127.0.0.1\n  port: {sim_tws.port}\n")
    proc = env.worker()
    submit(env, "test.ib_time", [("before", {})])
    wait_until(lambda: states(env)["before"][0] == "done", 30, "a first answer from TWS")
    sim_tws.freeze()
    submit(env, "test.ib_time", [(f"frozen{i}", {}) for i in range(3)], batch="frozen")
    wait_until(lambda: "jobs_paused" in env.stderr(), 30, "the worker to pause")
    paused = states(env)
    assert all(state in ("pending", "running") for k, (state, _) in paused.items()
               if k != "before")
    assert all(attempts <= 1 for _, attempts in paused.values())  # the timeout was refunded
    sim_tws.unfreeze()
    wait_until(lambda: all(s == "done" for s, _ in states(env).values()), 60,
               "every job to finish after the thaw")
    assert "jobs_resumed" in env.stderr()
    assert all(attempts == 1 for _, attempts in states(env).values())
    proc.terminate()
    assert proc.wait(20) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_stopped_tws_service_pauses_the_worker_and_its_start_resumes_it(
        jobs_env: Callable[..., JobsEnv], daemon: Callable[..., Daemon]) -> None:  # noqa: F811
    port = free_port()
    sup = daemon(f"""
        tws:
          command: [{sys.executable}, -m, traderctl, sim-tws, --port, "{port}"]
          readiness: {{tcp: "127.0.0.1:{port}", timeout: 20s, interval: 100ms}}
        """)
    sup.wait_state("tws", "running", 30)
    env = jobs_env()
    env.write_config(CONCURRENCY + "poll: 100ms\n",
                     extra=f"ib:\n  host: 127.0.0.1\n  port: {port}\n")
    assert env.socket == sup.socket
    proc = env.worker()
    submit(env, "test.ib_time", [("before", {})])
    wait_until(lambda: states(env)["before"] == ("done", 1), 30, "a first answer from TWS")
    sup.client.call("stop", names=["tws"], wait=True, timeout=20)
    wait_until(lambda: "service tws is stopped" in env.stderr(), 20, "the worker to pause")
    submit(env, "test.ib_time", [(f"later{i}", {}) for i in range(3)], batch="later")
    submit(env, "test.offline", [("vendor", {})], batch="vendor")  # needs no TWS
    wait_until(lambda: states(env)["vendor"] == ("done", 1), 20,
               "a kind that needs no TWS to run while TWS is stopped")
    time.sleep(1.0)  # ten polls of the paused worker: it must not touch the new jobs
    assert all(state == "pending" and attempts == 0 for key, (state, attempts)
               in states(env).items() if key.startswith("later"))
    sup.client.call("start", names=["tws"], wait=True, timeout=30)
    wait_until(lambda: all(s == "done" for s, _ in states(env).values()), 60,
               "every job to finish once tws runs again")
    assert "jobs_resumed" in env.stderr()
    assert {k: v for k, v in states(env).items()} == {
        k: ("done", 1) for k in ["before", "later0", "later1", "later2", "vendor"]}
    proc.terminate()
    assert proc.wait(20) == 0


def test_what_closes_the_gate_in_a_supervisor_status() -> None:
    from traderctl.jobs.gate import service_problem

    running = {"state": "running", "tws": {"reset_window": None, "connectivity": "ok"}}
    assert service_problem("tws", running) is None
    assert service_problem("tws", {"state": "backoff", "detail": "exited with code 1"}) == \
        "service tws is backoff (exited with code 1)"
    assert service_problem("tws", {"state": "running", "tws": {
        "reset_window": "north-america daily"}}) == \
        "service tws is in reset window north-america daily"
    assert "connectivity lost (1100)" in str(service_problem("tws", {
        "state": "running", "tws": {"connectivity": "lost (1100)"}}))
    assert service_problem("tws", {"state": "running"}) is None  # a plain process service
