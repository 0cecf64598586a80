"""The job kinds: one historical-data request each, its bars written as it answers.

``history.bars_small`` (bars of 30 s or less, IB's hard rules: ``ib_historical_small``)
and ``history.bars`` (larger bars: in-flight cap and soft rate, ``ib_historical``).
A job asks ``reqHistoricalData`` once and writes the bars of its span into the store
before the engine marks it done; the write replaces exactly that span, so a job run
again after a kill -9 between write and ``done`` changes nothing (and a job run again
finds its span stored and asks nothing). Writes are batched: the jobs that answered
while one ArcticDB commit ran are committed together in the next one
(:class:`BatchWriter`), each job returning only once its own bars are committed.
Error 162 "HMDS query returned no data" is an answer: the span is recorded as having no
data. A pacing violation is raised for the engine (retry, limiter slows down).

The store comes from :func:`configure` (``history download`` and ``history worker`` call
it). The payload names the store only when it is the default LMDB folder: an S3 URI may
carry credentials and never goes into the job store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_history.barsizes import bar_size
from traderctl_history.store import COLUMNS, HistoryStore, Series, Write, empty_frame

SMALL_KIND, KIND = "history.bars_small", "history.bars"
SOURCE = "ib"
_STORES: dict[str, HistoryStore] = {}
_FIELDS = {"wap": "average", "count": "barCount"}  # store column -> ib_async BarData
_CONFIGURED: list[tuple[str, Path]] = []
_WRITERS: dict[tuple[int, int], BatchWriter] = {}


class BatchWriter:
    """Commits the writes of concurrent jobs together, off the event loop.

    ``await write(w)`` returns once ``w`` is committed (or raises what the commit raised).
    While one commit runs in a thread, the writes that arrive queue up and go into the
    next; an idle writer commits a lone write at once, so batching adds no delay. A job
    that dies with its process before that return is not done, and its span is not in the
    store, or is wholly (the store's write is one ArcticDB batch): a rerun asks again or
    skips it, never half.
    """

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.pending: list[tuple[Write, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None
        self.commits = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def write(self, w: Write) -> None:
        self.loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = self.loop.create_future()
        self.pending.append((w, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain(), name="history-writes")
        await future

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await asyncio.to_thread(self.store.write_many, [w for w, _ in batch])
            except Exception as exc:  # every job of the batch fails and is retried
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                self.commits += 1
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)


def writer_for(store: HistoryStore) -> BatchWriter:
    """This event loop's writer of ``store`` (one per loop: futures belong to a loop)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), id(store))
    writer = _WRITERS.get(key)
    if writer is None or writer.store is not store or writer.loop is not loop:
        writer = _WRITERS[key] = BatchWriter(store)
    return writer


def configure(uri: str, locks: Path) -> None:
    """Use the store at ``uri`` for jobs whose payload does not name one."""
    _CONFIGURED[:] = [(uri, locks)]


def open_store(uri: str, locks: Path) -> HistoryStore:
    store = _STORES.get(uri)
    if store is None:
        store = _STORES[uri] = HistoryStore(uri, locks)
    return store


def _payload_store(payload: dict[str, Any]) -> HistoryStore:
    from traderctl.jobs import PermanentError

    if payload.get("storage"):
        return open_store(payload["storage"], Path(payload["locks"]))
    if not _CONFIGURED:
        raise PermanentError("history jobs on a configured (non-default) store run under "
                             "`traderctl history worker`")
    return open_store(*_CONFIGURED[0])


def job_kinds(polygon_profile: Any = None) -> list[Any]:
    """IB's two kinds and Polygon's (``polygon_profile``: from the config, else the
    default 5 a minute)."""
    from traderctl.jobs import JobKind
    from traderctl_history.sources import polygon_job_kind

    doc = "One reqHistoricalData; its bars written to the history store."
    return [JobKind(SMALL_KIND, bars_job, profile="ib_historical_small", timeout=120.0,
                    classify=classify_error, doc=doc),
            JobKind(KIND, bars_job, profile="ib_historical", timeout=300.0,
                    classify=classify_error, doc=doc),
            polygon_job_kind(polygon_profile)]


def classify_error(exc: BaseException) -> Any:
    """A dropped connection is retried (the next attempt reconnects), as symbols does; a
    request IB finds too long will not get shorter by asking again."""
    from traderctl.jobs import IBError, Verdict

    if isinstance(exc, IBError) and "time length exceed" in exc.message.lower():
        return Verdict.PERMANENT
    if isinstance(exc, ConnectionError | EOFError):
        return Verdict.RETRY
    return None


def prepare(job: Any) -> tuple[SecurityDefinition, Any, Series, tuple[datetime, datetime],
                               HistoryStore]:
    """What every source's job reads from its payload: security, bar size, series, span
    and the store."""
    p = job.payload
    security = SecurityDefinition.from_dict(p["security"])
    size = bar_size(p["bar_size"])
    span = (datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["stop"]))
    series = Series(security.con_id, size.name, p["what"], bool(p["rth"]))
    return security, size, series, span, _payload_store(p)


async def write_bars(store: HistoryStore, series: Series, security: SecurityDefinition,
                     span: tuple[datetime, datetime], frame: Any, source: str) -> None:
    """Replace ``span`` by ``frame`` in the store, batched with the other jobs' writes;
    returns once committed (a job returns after this, so done means stored)."""
    await writer_for(store).write(Write(series, security, span, frame, source))


async def bars_job(job: Any, ctx: Any) -> dict[str, Any]:
    from traderctl.jobs import IBError, Request
    from traderctl.jobs.profiles import historical_request

    p = job.payload
    security, size, series, span, store = prepare(job)
    request = historical_request(str(security.con_id), security.exchange, p["what"], p["end"],
                                 p["duration"], size.name) if size.small else Request(job.key)
    if job.attempts > 1 and await asyncio.to_thread(stored, store, series, span,
                                                    bool(p.get("refresh"))):
        return {"bars": 0, "no_data": False, "stored": True}  # written before a crash
    ib = await ctx.ib()
    async with ctx.pace(request):
        try:
            bars = await fetch(ib, security, p)
        except IBError as exc:
            if not no_data(exc):
                raise
            bars = []
    frame = bars_frame(bars, span, SOURCE, opens(security, size, bool(p["rth"])))
    await write_bars(store, series, security, span, frame, SOURCE)
    return {"bars": len(frame), "no_data": not len(frame)}


def stored(store: HistoryStore, series: Series, span: tuple[datetime, datetime],
            refresh: bool) -> bool:
    """Whether the store already holds ``span`` (a run killed after the write)."""
    from traderctl_history.planner import subtract

    return not subtract([span], store.covered(series, refresh))


def no_data(exc: Any) -> bool:
    """Error 162 that is an answer: the engine's "no data" texts, and TWS's "No historical
    market data for ..." (a contract without this data type, e.g. TRADES of a currency)."""
    from traderctl.jobs import Verdict
    from traderctl.jobs.retry import ib_verdict

    return (ib_verdict(exc.code, exc.message) is Verdict.RESULT
            or (exc.code == 162 and "no historical market data" in exc.message.lower()))


async def fetch(ib: Any, security: SecurityDefinition, p: dict[str, Any]) -> list[Any]:
    """``reqHistoricalData`` (UTC epoch bar times) with IB's error as ``IBError``."""
    from ib_async import RequestError

    from traderctl.jobs import IBError

    ib.RaiseRequestErrors = True
    try:
        return list(await ib.reqHistoricalDataAsync(
            security.contract(), p["end"], p["duration"], p["bar_size"], p["what"],
            bool(p["rth"]), formatDate=2, timeout=0))
    except RequestError as exc:
        raise IBError(exc.code, exc.message, exc.reqId) from None


def opens(security: SecurityDefinition, size: Any, rth: bool) -> Any:
    """For daily bars: trade date -> the UTC open of its first session (the bar's time)."""
    if not size.daily:
        return None
    from traderctl_history.calendar import Calendar

    calendar = Calendar(security, rth)

    def open_of(day: Any) -> datetime:
        sessions = calendar.sessions(day)
        if sessions:
            return sessions[0][0]
        return datetime.combine(day, datetime.min.time(), security.zone).astimezone(UTC)
    return open_of


def bars_frame(bars: list[Any], span: tuple[datetime, datetime], source: str,
               open_of: Any = None) -> Any:
    """ib_async ``BarData`` -> the store's frame, only bars starting inside ``span``;
    ``open_of``: daily bars (a trade date each) are stamped at their session's open."""
    import pandas as pd

    def when(b: Any) -> datetime:
        if open_of is not None and not isinstance(b.date, datetime):
            return open_of(b.date)
        return _utc(b.date)

    lo, hi = span
    rows = [(when(b), b) for b in bars]
    rows = [(t, b) for t, b in rows if lo <= t < hi]
    if not rows:
        return empty_frame()
    index = pd.DatetimeIndex([t for t, _ in rows], name="time").as_unit("ns")
    frame = pd.DataFrame({c: [float(getattr(b, _FIELDS.get(c, c)) or 0.0) for _, b in rows]
                          for c in COLUMNS}, index=index)
    frame["source"] = source
    return frame[~frame.index.duplicated(keep="last")].sort_index()


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, datetime.min.time(), UTC)


def close_stores() -> None:
    _STORES.clear()
    _WRITERS.clear()
