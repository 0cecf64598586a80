"""``history download``: plan what is missing, submit it as jobs, work them off.

For each security the wanted range is read in the exchange's zone (unless it carries
one), cut to sessions, minus the store's coverage, and split into requests
(:mod:`traderctl_history.planner`). Nothing missing: no job, no connection, so a re-run
of a complete range succeeds with TWS down. Otherwise one job per request goes into the
batch ``history:<bar size>:<WHAT>[:rth]`` and a worker in this process works it off,
paced by the profile that fits the bar size and sharing its budget with every other
process on the box.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_history.barsizes import BarSize, bar_size
from traderctl_history.calendar import Calendar
from traderctl_history.jobs import KIND, SMALL_KIND, configure, job_kinds
from traderctl_history.planner import Chunk, plan
from traderctl_history.store import HistoryStore, Series, history_dir, storage_uri


@dataclass(frozen=True)
class DownloadOptions:
    bar_size: str = "1 min"
    start: str = ""
    end: str | None = None
    what: str = "TRADES"
    rth: bool = False
    refresh: bool = False
    concurrency: int = 8
    progress: bool | None = None


@dataclass
class Planned:
    security: SecurityDefinition
    series: Series
    start: datetime
    end: datetime
    chunks: list[Chunk] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.security.symbol, "con_id": self.security.con_id,
                "exchange": self.security.primary_exchange or self.security.exchange,
                "series": self.series.symbol, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "requests": len(self.chunks),
                "failed": self.failed}


def parse_when(text: str, security: SecurityDefinition) -> datetime:
    """``2025-01-01`` (exchange midnight), ``2025-01-01T09:30`` (exchange time),
    ``...-05:00`` / ``...Z`` (as given) -> aware UTC; ValueError when unreadable."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date or ISO date-time: {text!r}") from None
    if len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
    return security.from_exchange_time(parsed)


def open_store(config: Any) -> HistoryStore:
    """The process's one store for the config (LMDB allows one opening per process)."""
    from traderctl_history.jobs import open_store as shared

    return shared(storage_uri(config), history_dir(config) / "locks")


def plan_all(config: Any, store: HistoryStore, securities: list[SecurityDefinition],
             opts: DownloadOptions, now: datetime) -> list[Planned]:
    size = bar_size(opts.bar_size)
    holidays = config.get("history.holidays") or []
    planned = []
    for sec in securities:
        start = parse_when(opts.start, sec)
        end = min(parse_when(opts.end, sec) if opts.end else now, _floor(now, size))
        series = Series(sec.con_id, size.name, opts.what, opts.rth)
        item = Planned(sec, series, start, end)
        if start < end:
            item.chunks = plan(Calendar(sec, opts.rth, holidays), size, start, end,
                               store.covered(series, opts.refresh))
        planned.append(item)
    return planned


def _floor(now: datetime, size: BarSize) -> datetime:
    """The start of the bar running now: a bar still forming is not stored."""
    stamp = int(now.timestamp()) // size.seconds * size.seconds
    return datetime.fromtimestamp(stamp, UTC)


def download(config: Any, securities: list[SecurityDefinition],
             opts: DownloadOptions) -> list[Planned]:
    """Plan, submit and work off; returns the plan with each security's failed requests."""
    store = open_store(config)
    uri = storage_uri(config)
    configure(uri, store.locks)
    planned = plan_all(config, store, securities, opts, datetime.now(UTC))
    if not any(p.chunks for p in planned):
        return planned
    from traderctl_symbols.resolve import reachable

    reachable(config.get("ib.host"), config.get("ib.port"))
    size = bar_size(opts.bar_size)
    kind = SMALL_KIND if size.small else KIND
    # an S3 URI may carry credentials: such a payload names no store (see jobs.py)
    where = {"storage": uri, "locks": str(store.locks)} if uri.startswith("lmdb://") else {}
    items = [(f"{p.series.symbol}|{c.start.isoformat()}|{c.stop.isoformat()}",
              {**where, "security": p.security.to_dict(), "bar_size": size.name,
               "what": opts.what, "rth": opts.rth, "refresh": opts.refresh, "end": c.end,
               "duration": c.duration,
               "start": c.start.isoformat(), "stop": c.stop.isoformat()})
             for p in planned for c in p.chunks]
    batch = submit(config, kind, items, f"history:{size.slug}:{opts.what}"
                   + (":rth" if opts.rth else ""))
    work_off(config, batch, opts)
    failed = failed_keys(config, batch)
    for p in planned:
        p.failed = [f"{k.split('|', 2)[1]}: {err}" for k, err in failed.items()
                    if k.split("|", 1)[0] == p.series.symbol]
    return planned


def submit(config: Any, kind: str, items: list[tuple[str, Any]], name: str) -> int:
    from traderctl.jobs.settings import store_path
    from traderctl.jobs.store import JobStore

    jobs = JobStore(store_path(config))
    try:
        batch = jobs.find_batch(name) or jobs.create_batch(name)
        # the planner saw these spans missing from storage: ask again even if a job of
        # the same key finished before (the store was removed, or --refresh)
        jobs.submit(kind, items, batch_id=batch, refresh=True)
        return batch
    finally:
        jobs.close()


def work_off(config: Any, batch: int, opts: DownloadOptions) -> None:
    import asyncio

    from traderctl.jobs.progress import EventReporter, RichReporter
    from traderctl.jobs.runtime import build_worker, run_worker

    tty = sys.stderr.isatty() if opts.progress is None else opts.progress
    reporter = RichReporter() if tty else EventReporter(sys.stderr)
    interval = 0.5 if tty else float(config.get("jobs.progress_interval"))
    kinds = {k.name: k for k in job_kinds()}
    worker = build_worker(config, kinds, batch, opts.concurrency, reporter)
    try:
        asyncio.run(run_worker(worker, reporter, interval, until_done=True))
    finally:
        reporter.close()


def failed_keys(config: Any, batch: int) -> dict[str, str]:
    from traderctl.jobs.model import JobFilter
    from traderctl.jobs.settings import store_path
    from traderctl.jobs.store import JobStore

    jobs = JobStore(store_path(config))
    try:
        return {j.key: j.last_error or j.state
                for j in jobs.jobs(JobFilter(batch_id=batch, state="failed"))}
    finally:
        jobs.close()
