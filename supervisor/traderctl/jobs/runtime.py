"""Assemble a worker from the configuration and run it under signals and progress.

This is what ``traderctl jobs worker`` runs, and what a plugin's own download command
calls to work off the batch it just submitted (``run_worker(..., batch_id=b,
until_done=True)``): same store, same shared limiter, same pause-while-TWS-is-down.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from traderctl.jobs.gate import TwsGate
from traderctl.jobs.ibconn import IBConnection
from traderctl.jobs.kinds import JobKind
from traderctl.jobs.limiter import Limiter
from traderctl.jobs.profiles import builtin_profiles
from traderctl.jobs.progress import (
    Reporter,
    RichReporter,
    make_reporter,
    report_progress,
    snapshotter,
)
from traderctl.jobs.retry import RetryPolicy
from traderctl.jobs.settings import limiter_path, store_path
from traderctl.jobs.store import JobStore
from traderctl.jobs.worker import Worker, WorkerSettings
from traderctl.logs import get_logger

log = get_logger(__name__)


def worker_settings(config: Any, concurrency: int | None = None) -> WorkerSettings:
    jobs = config.section("jobs")
    retry = jobs["retry"]
    return WorkerSettings(
        concurrency=concurrency or jobs["concurrency"], lease=jobs["lease"],
        poll=jobs["poll"], grace=jobs["grace"], job_timeout=jobs["job_timeout"],
        retry=RetryPolicy(retry["base"], retry["cap"], retry["max_attempts"]))


def runnable(kinds: dict[str, JobKind], profiles: dict[str, Any]) -> dict[str, JobKind]:
    """The kinds whose profile exists; the others are logged and not run."""
    found = {}
    for name, kind in kinds.items():
        if isinstance(kind.profile, str) and kind.profile not in profiles:
            log.error("job_kind_skipped", kind=name, profile=kind.profile,
                      reason="unknown rate-limit profile", known=sorted(profiles))
            continue
        found[name] = kind
    return found


def build_worker(config: Any, kinds: dict[str, JobKind], batch_id: int | None = None,
                 concurrency: int | None = None, reporter: Reporter | None = None) -> Worker:
    settings = worker_settings(config, concurrency)
    profiles = builtin_profiles(config.section("jobs"))
    host, port = config.get("ib.host"), config.get("ib.port")
    gate = TwsGate(config.get("supervisor.socket"), config.get("jobs.tws_service"),
                   api=(host, port, config.get("jobs.probe_client_id")),
                   poll=max(settings.poll, 0.2), probe_timeout=config.get("jobs.probe_timeout"),
                   on_change=reporter.event if reporter is not None else None)
    return Worker(JobStore(store_path(config)),
                  Limiter(limiter_path(config), in_flight_ttl=settings.job_timeout * 2),
                  runnable(kinds, profiles), profiles, settings, gate=gate,
                  ib=IBConnection(host, port, config.get("jobs.client_id")), batch_id=batch_id)


async def run_worker(worker: Worker, reporter: Reporter, interval: float,
                     until_done: bool = False) -> None:
    """Run until done or a signal; the first SIGINT/SIGTERM drains, the second hurries."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            worker.hurry.set()
        log.info("jobs_stopping", signal=signal.Signals(signum).name, grace=worker.settings.grace)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    snapshot = snapshotter(worker.store, worker.limiter, worker.gate, worker.batch_id)
    progress = asyncio.create_task(report_progress(snapshot, reporter, interval))
    try:
        await worker.run(stop, until_done=until_done)
    finally:
        progress.cancel()
        await asyncio.gather(progress, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        close_worker(worker)


def close_worker(worker: Worker) -> None:
    if worker.ib is not None:
        worker.ib.reset()
    if worker.gate is not None:
        worker.gate.close()
    worker.store.close()
    worker.limiter.close()


def run_from_config(config: Any, kinds: dict[str, JobKind], batch_id: int | None = None,
                    until_done: bool = False, concurrency: int | None = None,
                    tty: bool | None = None) -> Worker:
    reporter = make_reporter(tty)
    interval = 0.5 if isinstance(reporter, RichReporter) else config.get("jobs.progress_interval")
    worker = build_worker(config, kinds, batch_id, concurrency, reporter)
    try:
        asyncio.run(run_worker(worker, reporter, interval, until_done))
    finally:
        reporter.close()
    return worker
