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
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_history.barsizes import BarSize, bar_size
from traderctl_history.calendar import Calendar
from traderctl_history.jobs import configure
from traderctl_history.planner import Chunk, plan
from traderctl_history.sources import BarSource, builtin_sources, configured_kinds
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
    source: str = "ib"


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
             opts: DownloadOptions, now: datetime,
             source: BarSource | None = None) -> list[Planned]:
    size = bar_size(opts.bar_size)
    source = source or builtin_sources()[0]
    # the planner cuts requests at the source's longest span (IB's table, Polygon's pages)
    asked = replace(size, max_seconds=source.max_seconds(size))
    holidays = config.get("history.holidays") or []
    planned = []
    for sec in securities:
        start = parse_when(opts.start, sec)
        end = min(parse_when(opts.end, sec) if opts.end else now, _floor(now, size))
        calendar = Calendar(sec, opts.rth, holidays)
        if size.daily:  # a daily bar exists once its session closed: whole sessions only
            end = last_close(calendar, min(parse_when(opts.end, sec) if opts.end else now,
                                           now), start)
        series = Series(sec.con_id, size.name, opts.what, opts.rth)
        item = Planned(sec, series, start, end)
        if start < end:
            item.chunks = plan(calendar, asked, start, end,
                               store.covered(series, opts.refresh))
        planned.append(item)
    return planned


def last_close(calendar: Calendar, end: datetime, floor: datetime) -> datetime:
    """The close of the last session that ended by ``end`` (``floor`` if none did)."""
    day = end.astimezone(calendar.security.zone).date() + timedelta(days=1)
    for _ in range(15):
        closes = [hi for _, hi in calendar.sessions(day) if hi <= end]
        if closes:
            return max(max(closes), floor)
        day -= timedelta(days=1)
    return floor


def _floor(now: datetime, size: BarSize) -> datetime:
    """The start of the bar running now: a bar still forming is not stored."""
    stamp = int(now.timestamp()) // size.seconds * size.seconds
    return datetime.fromtimestamp(stamp, UTC)


def download(config: Any, securities: list[SecurityDefinition], opts: DownloadOptions,
             source: BarSource | None = None,
             kinds: dict[str, Any] | None = None) -> list[Planned]:
    """Plan, submit and work off; returns the plan with each security's failed requests.

    ``source``: where bars come from (default IB); ``kinds``: the job kinds to run
    (default this plugin's; a third-party source's kind comes from the plugin host)."""
    source = source or builtin_sources()[0]
    if opts.what not in source.whats:
        raise ValueError(f"--what {opts.what}: source {source.name} has "
                         f"{', '.join(source.whats)}")
    store = open_store(config)
    uri = storage_uri(config)
    configure(uri, store.locks)
    kinds = {**(kinds or {}), **configured_kinds(config)}
    planned = plan_all(config, store, securities, opts, datetime.now(UTC), source)
    if not any(p.chunks for p in planned):
        return planned
    if source.needs_tws:
        from traderctl_symbols.resolve import reachable

        reachable(config.get("ib.host"), config.get("ib.port"))
    size = bar_size(opts.bar_size)
    kind = source.kind_for(size)
    # an S3 URI may carry credentials: such a payload names no store (see jobs.py)
    where = {"storage": uri, "locks": str(store.locks)} if uri.startswith("lmdb://") else {}
    prefix = "" if source.name == "ib" else f"{source.name}|"
    items = [(f"{prefix}{p.series.symbol}|{c.start.isoformat()}|{c.stop.isoformat()}",
              {**where, "source": source.name, "security": p.security.to_dict(),
               "bar_size": size.name, "what": opts.what, "rth": opts.rth,
               "refresh": opts.refresh, "end": c.end, "duration": c.duration,
               "start": c.start.isoformat(), "stop": c.stop.isoformat(),
               "pieces": [[a.isoformat(), b.isoformat()] for a, b in c.pieces]})
             for p in planned for c in p.chunks]
    name = "history:" + ("" if source.name == "ib" else f"{source.name}:")
    batch = submit(config, kind, items, f"{name}{size.slug}:{opts.what}"
                   + (":rth" if opts.rth else ""))
    work_off(config, batch, opts, kinds, gated=source.needs_tws)
    failed = failed_keys(config, batch)
    for p in planned:
        p.failed = [f"{k.removeprefix(prefix).split('|', 2)[1]}: {err}"
                    for k, err in failed.items()
                    if k.removeprefix(prefix).split("|", 1)[0] == p.series.symbol]
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


def work_off(config: Any, batch: int, opts: DownloadOptions, kinds: dict[str, Any],
             gated: bool = True) -> None:
    """Run the batch's jobs in this process; ``gated``: pause while TWS is down (a source
    that does not need TWS runs without the gate and without an IB connection)."""
    import asyncio

    from traderctl.jobs.limiter import Limiter
    from traderctl.jobs.profiles import builtin_profiles
    from traderctl.jobs.progress import EventReporter, RichReporter
    from traderctl.jobs.runtime import build_worker, run_worker, runnable, worker_settings
    from traderctl.jobs.settings import limiter_path, store_path
    from traderctl.jobs.store import JobStore
    from traderctl.jobs.worker import Worker

    tty = sys.stderr.isatty() if opts.progress is None else opts.progress
    reporter = RichReporter() if tty else EventReporter(sys.stderr)
    interval = 0.5 if tty else float(config.get("jobs.progress_interval"))
    if gated:
        worker = build_worker(config, kinds, batch, opts.concurrency, reporter)
    else:
        settings = worker_settings(config, opts.concurrency)
        profiles = builtin_profiles(config.section("jobs"))
        worker = Worker(JobStore(store_path(config)),
                        Limiter(limiter_path(config), in_flight_ttl=settings.job_timeout * 2),
                        runnable(kinds, profiles), profiles, settings, batch_id=batch)
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
