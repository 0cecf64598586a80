"""Progress: rate and ETA, ``batch_progress`` events, the rich bar on a terminal, and the
worker as a supervised service whose events reach the supervisor's stream."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any

from tests.cli.test_imports import imported_modules
from tests.daemon.conftest import Daemon, daemon, wait_until  # noqa: F401 (fixture)
from tests.jobs.conftest import Clock, JobsEnv, submit
from tests.jobs.test_pause import free_port
from traderctl.jobs.progress import EventReporter, Meter, RichReporter, Snapshot

COUNTS = {"pending": 6, "running": 2, "done": 10, "failed": 2, "cancelled": 0}



def test_rate_and_eta_from_finished_jobs() -> None:
    clock = Clock(0.0)
    meter = Meter(clock)
    assert meter.measure(0, 20) == (0.0, None)
    clock.now = 10.0
    rate, eta = meter.measure(10, 10)
    assert rate == 1.0 and eta == 10.0


def test_batch_progress_events_are_json_lines() -> None:
    out = io.StringIO()
    EventReporter(out).show(Snapshot(3, dict(COUNTS), 1.5, 5.3, 0.25, None))
    event = json.loads(out.getvalue())
    assert event["event"] == "batch_progress" and event["ts"].endswith("+00:00")
    assert (event["batch"], event["done"], event["failed"], event["total"]) == (3, 10, 2, 20)
    assert (event["rate"], event["eta"], event["pacing_wait"]) == (1.5, 5, 0.25)


def test_the_rich_bar_shows_done_failed_rate_eta_and_pacing_wait() -> None:
    from rich.console import Console

    buffer = io.StringIO()
    reporter = RichReporter(Console(file=buffer, force_terminal=True, width=160))
    reporter.show(Snapshot(None, dict(COUNTS), 2.0, 4.0, 1.2, "service tws is stopped"))
    reporter.close()
    text = buffer.getvalue()
    for part in ("done 10", "failed 2", "2.00/s", "eta 4s", "pacing wait 1.2s", "12/20",
                 "paused: service tws is stopped"):
        assert part in text


def test_help_stays_light_and_jobs_list_needs_no_rich_nor_ib(tmp_path: Any) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/none.sock\n  data_dir: {tmp_path}/data\n")
    loaded = imported_modules(["--help"], tmp_path)
    assert "traderctl.cli.main" in loaded
    assert {m for m in loaded if m.startswith("traderctl.jobs")} == {"traderctl.jobs",
                                                                     "traderctl.jobs.spec"}
    assert "sqlite3" not in loaded
    listed = imported_modules(["jobs", "list"], tmp_path)
    assert "traderctl.jobs.store" in listed
    assert not {m for m in listed if m.split(".")[0] in ("rich", "ib_async")}


def test_the_worker_as_a_supervised_service(
        jobs_env: Callable[..., JobsEnv], daemon: Callable[..., Daemon]) -> None:  # noqa: F811
    env = jobs_env()
    port = free_port()
    env.write_config("progress_interval: 200ms\n",
                     extra=f"ib:\n  host: 127.0.0.1\n  port: {port}\n")
    command = json.dumps([sys.executable, "-m", "traderctl", "--config", str(env.config),
                          "jobs", "worker"])
    sup = daemon(f"""
        tws:
          command: [{sys.executable}, -m, traderctl, sim-tws, --port, "{port}"]
          readiness: {{tcp: "127.0.0.1:{port}", timeout: 20s, interval: 100ms}}
        jobs-worker:
          command: {command}
          depends_on: [tws]
          env: {json.dumps({k: env.env[k] for k in ("PYTHONPATH", "JOBS_TEST_LOG")})}
        """)
    sup.wait_state("jobs-worker", "running", 30)
    submit(env, "test.record", [(f"s{i}", {}) for i in range(5)])

    def progress() -> list[dict[str, Any]]:
        lines = [e["line"] for e in sup.events("service_output", service="jobs-worker")]
        return [json.loads(line) for line in lines if '"batch_progress"' in line]

    wait_until(lambda: any(p["done"] == 5 for p in progress()), 30,
               "batch_progress with every job done in the supervisor's events")
    sup.client.call("stop", names=["jobs-worker"], wait=True, timeout=20)
    assert sup.service("jobs-worker")["last_exit"]["exit_code"] == 0
