"""Symbol to security: answered from the universe store, the rest asked of IB as jobs.

:func:`resolve` is what ``traderctl symbols resolve`` and the ``resolve_securities`` hook
run. Requests the store has answered before are answered from it (unless ``refresh``);
the others become jobs of kind ``symbols.resolve`` in one batch per universe
(``symbols:<universe>``) on the job engine, paced by the ``ib_messages`` profile (45
messages per second, shared with every other process talking to the same TWS), retried
by the engine's policy and worked off by a worker in this process with a progress bar.

Each job asks ``reqContractDetails`` once and records the answer (candidates, choice,
membership) in the store in one transaction before the engine marks it done, so a run
killed with SIGKILL resumes where it stopped: what was recorded is answered from the
store, what was pending or leased by the dead process is worked off by the next run.
Error 200 (no security definition) is an answer (``unknown``), not a failure.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_symbols.choose import choose
from traderctl_symbols.query import SymbolQuery
from traderctl_symbols.store import Lookup, UniverseStore, now_utc, store_path

KIND = "symbols.resolve"
NO_SECDEF = 200


class TwsUnreachable(RuntimeError):
    """Nothing listens on ``ib.host:ib.port``; no job was submitted."""


@dataclass(frozen=True)
class ResolveOptions:
    """How to resolve; ``None`` fields take the ``symbols`` config section's defaults."""

    universe: str | None = None
    sec_type: str = "STK"
    currency: str = ""
    exchange: str = "SMART"
    prefer_primary: tuple[str, ...] | None = None
    prefer_currency: str | None = None
    refresh: bool = False
    concurrency: int = 16
    progress: bool | None = None

    def with_config(self, config: Any) -> ResolveOptions:
        prefer = self.prefer_primary
        if prefer is None:
            prefer = tuple(config.get("symbols.prefer_primary") or ())
        return ResolveOptions(
            self.universe or config.get("symbols.universe"), self.sec_type, self.currency,
            self.exchange, tuple(p.upper() for p in prefer),
            self.prefer_currency if self.prefer_currency is not None
            else config.get("symbols.prefer_currency"),
            self.refresh, self.concurrency, self.progress)


@dataclass(frozen=True)
class Resolved:
    """One symbol's outcome: ``resolved``, ``unknown`` (error 200) or ``failed``."""

    query: SymbolQuery
    status: str
    chosen: SecurityDefinition | None = None
    rule: str | None = None
    candidates: tuple[SecurityDefinition, ...] = ()
    error: str | None = None
    resolved_at: datetime | None = None
    resolved_from: str = ""
    from_store: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.query.text, "request": self.query.key, "status": self.status,
            "chosen": self.chosen.to_dict() if self.chosen else None, "rule": self.rule,
            "candidates": [_candidate(s) for s in self.candidates], "error": self.error,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "resolved_from": self.resolved_from, "from_store": self.from_store,
        }


@dataclass
class Resolution:
    """What ``resolve_securities`` returns: one :class:`Resolved` per distinct request."""

    universe: str
    results: list[Resolved] = field(default_factory=list)

    @property
    def securities(self) -> dict[str, SecurityDefinition]:
        """Symbol as asked -> chosen definition, for the resolved ones."""
        return {r.query.text: r.chosen for r in self.results if r.chosen is not None}

    def by_status(self, status: str) -> list[Resolved]:
        return [r for r in self.results if r.status == status]

    def to_json(self) -> dict[str, Any]:
        from traderctl_symbols.choose import RULE

        counts = {s: len(self.by_status(s)) for s in ("resolved", "unknown", "failed")}
        return {"universe": self.universe, "counts": counts, "choice_rule": list(RULE),
                "results": [r.to_json() for r in self.results]}


def _candidate(sec: SecurityDefinition) -> dict[str, Any]:
    return {"con_id": sec.con_id, "symbol": sec.symbol, "exchange": sec.exchange,
            "primary_exchange": sec.primary_exchange, "currency": sec.currency,
            "long_name": sec.long_name}


def resolve(config: Any, queries: Sequence[SymbolQuery], options: ResolveOptions) -> Resolution:
    """Answer every query (see the module doc); blocking, runs its own event loop."""
    opts = options.with_config(config)
    universe = opts.universe or "default"
    unique = list({q.key: q for q in queries}.values())
    with UniverseStore(store_path(config)) as store:
        known = {} if opts.refresh else store.lookups([q.key for q in unique])
        missing = [q for q in unique if q.key not in known]
        failures: dict[str, str] = {}
        if missing:
            failures = ask_ib(config, missing, opts, store.path)
            fresh = store.lookups([q.key for q in missing])
        else:
            fresh = {}
        results = [_outcome(q, fresh.get(q.key) or known.get(q.key), q.key not in fresh,
                            opts, failures.get(q.key)) for q in unique]
        store.add_members(universe, [(r.query, r.chosen, r.rule, r.resolved_at, r.resolved_from)
                                     for r in results if r.from_store and r.resolved_at])
    return Resolution(universe, results)


def _outcome(query: SymbolQuery, lookup: Lookup | None, from_store: bool,
             opts: ResolveOptions, failure: str | None) -> Resolved:
    if lookup is None:
        return Resolved(query, "failed", error=failure or "not resolved (job did not finish)")
    if lookup.status == "unknown" or not lookup.candidates:
        return Resolved(query, "unknown", error=lookup.error, resolved_at=lookup.resolved_at,
                        resolved_from=lookup.resolved_from, from_store=from_store)
    pick = choose(query, lookup.candidates, opts.prefer_primary or (), opts.prefer_currency or "")
    return Resolved(query, "resolved", pick.chosen, pick.rule, pick.candidates,
                    resolved_at=lookup.resolved_at, resolved_from=lookup.resolved_from,
                    from_store=from_store)


# ---- asking IB through the job engine ----------------------------------------------------------

def ask_ib(config: Any, queries: Sequence[SymbolQuery], opts: ResolveOptions,
           store: Path) -> dict[str, str]:
    """Submit and work off one job per query; returns the last error of failed ones."""
    from traderctl.jobs.model import JobFilter
    from traderctl.jobs.settings import store_path as jobs_path
    from traderctl.jobs.store import JobStore

    host, port = config.get("ib.host"), config.get("ib.port")
    reachable(host, port)
    universe = opts.universe or "default"
    payload = {"store": str(store), "universe": universe, "source": f"ib:{host}:{port}",
               "prefer_primary": list(opts.prefer_primary or ()),
               "prefer_currency": opts.prefer_currency or ""}
    jobs = JobStore(jobs_path(config))
    try:
        name = f"symbols:{universe}"
        batch = jobs.find_batch(name) or jobs.create_batch(name)
        # refresh=True: a query not in the universe store must be asked even if an old job
        # of the same key is finished (the store was removed, or --refresh was given)
        jobs.submit(KIND, [(f"{universe}|{q.key}", {**payload, "query": q.to_json()})
                           for q in queries], batch_id=batch, refresh=True)
    finally:
        jobs.close()
    work_off(config, batch, opts)
    jobs = JobStore(jobs_path(config))
    try:
        return {job.key.split("|", 1)[1]: job.last_error or job.state
                for job in jobs.jobs(JobFilter(batch_id=batch, state="failed"))}
    finally:
        jobs.close()


def work_off(config: Any, batch: int, opts: ResolveOptions) -> None:
    """Run a worker for this batch until it is done: the engine's bar on a terminal,
    ``batch_progress`` events on stderr otherwise (stdout carries the result)."""
    import asyncio

    from traderctl.jobs.progress import EventReporter, RichReporter
    from traderctl.jobs.runtime import build_worker, run_worker

    tty = sys.stderr.isatty() if opts.progress is None else opts.progress
    reporter = RichReporter() if tty else EventReporter(sys.stderr)
    interval = 0.5 if tty else float(config.get("jobs.progress_interval"))
    worker = build_worker(config, {KIND: job_kind()}, batch, opts.concurrency, reporter)
    try:
        asyncio.run(run_worker(worker, reporter, interval, until_done=True))
    finally:
        reporter.close()
        close_stores()


def reachable(host: str, port: int, timeout: float = 3.0) -> None:
    """Fail fast with a clear message instead of a worker waiting for a TWS that is not there."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise TwsUnreachable(f"cannot reach TWS / IB Gateway at {host}:{port} "
                             f"({exc.strerror or exc}); nothing was submitted") from None


def job_kind() -> Any:
    from traderctl.jobs import JobKind

    return JobKind(KIND, resolve_job, profile="ib_messages", timeout=30.0,
                   classify=classify_error,
                   doc="Ask IB for one symbol's contract details; record them in the "
                       "universe store.")


def classify_error(exc: BaseException) -> Any:
    """A dropped connection is retried (the next attempt reconnects) rather than treated as
    an outage: the engine's outage probe, entered by several jobs at once, can hold its own
    client id and keep the gate closed for good (seen after an error 100 disconnect)."""
    from traderctl.jobs import Verdict

    if isinstance(exc, ConnectionError | TimeoutError | EOFError):
        return Verdict.RETRY
    return None


_STORES: dict[str, UniverseStore] = {}


async def resolve_job(job: Any, ctx: Any) -> dict[str, Any]:
    """The job handler: one ``reqContractDetails``, recorded with the choice."""
    from traderctl.jobs import IBError, Request

    payload = job.payload
    query = SymbolQuery.from_json(payload["query"])
    ib = await ctx.ib()
    async with ctx.pace(Request(query.key)):
        try:
            details = await contract_details(ib, query)
            error = None
        except IBError as exc:
            if exc.code != NO_SECDEF:
                raise
            details, error = [], f"{exc.code}: {exc.message}"
    candidates = [SecurityDefinition.from_contract_details(d) for d in details]
    pick = choose(query, candidates, payload["prefer_primary"],
                  payload["prefer_currency"]) if candidates else None
    store = _STORES.get(payload["store"]) or _STORES.setdefault(
        payload["store"], UniverseStore(payload["store"]))
    store.record(query, _unique(candidates), error, payload["source"], payload["universe"],
                 pick.chosen if pick else None, pick.rule if pick else None)
    return {"status": "resolved" if pick else "unknown", "rule": pick.rule if pick else None,
            "con_id": pick.chosen.con_id if pick else None,
            "candidates": [s.con_id for s in candidates], "at": now_utc().isoformat()}


async def contract_details(ib: Any, query: SymbolQuery) -> list[Any]:
    """``reqContractDetails`` with IB's error as :class:`traderctl.jobs.IBError`."""
    from ib_async import Contract, RequestError

    from traderctl.jobs import IBError

    ib.RaiseRequestErrors = True
    try:
        return list(await ib.reqContractDetailsAsync(Contract(**query.contract_fields())))
    except RequestError as exc:
        raise IBError(exc.code, exc.message, exc.reqId) from None


def _unique(candidates: list[SecurityDefinition]) -> list[SecurityDefinition]:
    return list({s.con_id: s for s in candidates}.values())


def close_stores() -> None:
    for store in _STORES.values():
        store.close()
    _STORES.clear()
