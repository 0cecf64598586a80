"""Bars in ArcticDB: one symbol per conId, bar size, data type (and RTH), UTC index.

Symbol ``<conId>/<bar size>/<WHAT>[/rth]`` in library ``bars``. Columns open, high, low,
close, volume, wap, count, source; the index is tz-aware UTC. The metadata holds the
security's definition and the coverage: the spans written (with their source) and the
spans IB answered with no data, so the planner never asks for them again.

Writes replace exactly the span they cover (``update`` with a ``date_range``), so a
re-downloaded range never duplicates. ArcticDB does not serialise two writers of one
symbol (the later version would drop the earlier's coverage), so every read-modify-write
of a symbol holds an ``flock`` on a file under the local lock folder, and the version map
is read afresh for every operation (``VersionMap.ReloadInterval`` 0: ArcticDB's cache of
the latest version would otherwise let a writer update a version already replaced);
writers on other machines sharing an S3 store must download disjoint securities.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_history.planner import subtract

Span = tuple[datetime, datetime]
Tagged = tuple[datetime, datetime, str]
LIBRARY = "bars"
COLUMNS = ("open", "high", "low", "close", "volume", "wap", "count")


@dataclass(frozen=True)
class Series:
    con_id: int
    bar_size: str
    what: str
    rth: bool

    @property
    def symbol(self) -> str:
        return f"{self.con_id}/{self.bar_size.replace(' ', '')}/{self.what}" + (
            "/rth" if self.rth else "")


@dataclass(frozen=True)
class Write:
    """One job's answer: ``frame`` holds every bar of ``span`` (empty: no data there)."""

    series: Series
    security: SecurityDefinition
    span: Span
    frame: Any
    source: str


def storage_uri(config: Any) -> str:
    """``history.storage`` or LMDB under ``<supervisor.data_dir>/history/arctic``."""
    uri = config.get("history.storage")
    if uri:
        return str(uri)
    return f"lmdb://{history_dir(config) / 'arctic'}"


def history_dir(config: Any) -> Path:
    data_dir = config.get("supervisor.data_dir")
    if not data_dir:
        from traderctl.config.sections import default_data_dir

        data_dir = default_data_dir()
    path = Path(data_dir) / "history"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class HistoryStore:
    """The ArcticDB library ``bars`` at ``uri``; ``locks`` is this box's lock folder."""

    def __init__(self, uri: str, locks: Path) -> None:
        import arcticdb
        from arcticdb.config import set_config_int

        # ArcticDB caches each symbol's latest version per process for a while: a writer
        # holding the symbol's lock would update a version another process has replaced
        # meanwhile, and drop its bars. Read the version afresh every time (before the
        # Library exists: the setting is read when it is built).
        set_config_int("VersionMap.ReloadInterval", 0)
        if uri.startswith("lmdb://"):
            Path(uri.removeprefix("lmdb://").split("?", 1)[0]).mkdir(parents=True,
                                                                     exist_ok=True)
        self.arctic = arcticdb.Arctic(uri)
        self.lib = self.arctic.get_library(LIBRARY, create_if_missing=True)
        self.locks = locks
        locks.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextmanager
    def locked(self, series: Series) -> Iterator[None]:
        name = hashlib.sha1(series.symbol.encode()).hexdigest()[:16]
        fd = os.open(self.locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ---- metadata and coverage ----------------------------------------------------------

    def metadata(self, series: Series) -> dict[str, Any]:
        if not self.lib.has_symbol(series.symbol):
            return {}
        return dict(self.lib.read_metadata(series.symbol).metadata or {})

    def covered(self, series: Series, refresh: bool = False) -> list[Span]:
        """Spans the planner need not ask for: written ones, and no-data ones unless
        ``refresh``."""
        meta = self.metadata(series)
        spans = [(a, b) for a, b, _ in _spans(meta.get("coverage", []))]
        if not refresh:
            spans += [(a, b) for a, b, _ in _spans(meta.get("nodata", []))]
        return merge(spans)

    def write(self, series: Series, security: SecurityDefinition, span: Span,
              frame: Any, source: str) -> None:
        """Replace ``span`` by ``frame`` (empty: IB had no data there). ``frame`` holds
        every bar of ``span``; nothing outside it is touched."""
        self.write_many([Write(series, security, span, frame, source)])

    def write_many(self, writes: list[Write]) -> None:
        """Several :meth:`write` s in one ArcticDB batch: one version per symbol, however
        many spans it gets. All or nothing per symbol; spans of one symbol may be apart
        (the bars between them are kept)."""
        by_series: dict[Series, list[Write]] = {}
        for w in writes:
            by_series.setdefault(w.series, []).append(w)
        with self.locked_all(list(by_series)):
            metas = self._metadata_batch(list(by_series))
            updates, meta_only, fresh = [], [], []
            for series, group in by_series.items():
                meta = metas[series] or _new_meta(series, group[0].security)
                _apply(meta, group)
                data = [w for w in group if len(w.frame)]
                if metas[series] is None:
                    fresh.append((series, self._combined(series, data, exists=False), meta))
                elif data:
                    updates.append((series, self._combined(series, data, exists=True), meta))
                else:
                    meta_only.append((series, meta))
            self._commit(updates, meta_only, fresh)

    def _commit(self, updates: list[tuple[Series, Any, dict[str, Any]]],
                meta_only: list[tuple[Series, dict[str, Any]]],
                fresh: list[tuple[Series, Any, dict[str, Any]]]) -> None:
        from arcticdb import UpdatePayload, WritePayload

        if updates:
            payloads = [UpdatePayload(s.symbol, frame, metadata=meta, date_range=rng)
                        for s, (frame, rng), meta in updates]
            _check(self.lib.update_batch(payloads, prune_previous_versions=True))
        if fresh:
            _check(self.lib.write_batch(
                [WritePayload(s.symbol, frame, metadata=meta) for s, (frame, _), meta in fresh],
                prune_previous_versions=True))
        if meta_only:
            from arcticdb import WriteMetadataPayload

            _check(self.lib.write_metadata_batch(
                [WriteMetadataPayload(s.symbol, meta) for s, meta in meta_only],
                prune_previous_versions=True))

    def _combined(self, series: Series, data: list[Write],
                  exists: bool) -> tuple[Any, tuple[datetime, datetime] | None]:
        """The frame replacing ``[first start, last stop)`` and that range: the new bars,
        plus the stored ones between the spans (which an update of the range would drop)."""
        import pandas as pd

        if not data:
            return empty_frame(), None
        spans = merge([w.span for w in data])
        lo, hi = spans[0][0], spans[-1][1]
        frames = [w.frame for w in reversed(data)]  # a later write of a span wins
        if exists and len(spans) > 1:
            kept = self.read(series, lo, hi - _TINY)
            inside = _inside(kept.index, spans)
            frames.append(kept[~inside])
        frame = frames[0] if len(frames) == 1 else pd.concat(frames)
        frame = frame[~frame.index.duplicated(keep="first")].sort_index()
        return frame, (lo, hi - _TINY)

    def _metadata_batch(self, series: list[Series]) -> dict[Series, dict[str, Any] | None]:
        """Each series' metadata, None when it has no symbol yet."""
        from arcticdb import DataError

        found = self.lib.read_metadata_batch([s.symbol for s in series])
        return {s: None if isinstance(item, DataError) else dict(item.metadata or {})
                for s, item in zip(series, found, strict=True)}

    @contextmanager
    def locked_all(self, series: list[Series]) -> Iterator[None]:
        """Every series' lock, taken in one order (no two writers can deadlock)."""
        with ExitStack() as stack:
            for s in sorted(series, key=lambda s: s.symbol):
                stack.enter_context(self.locked(s))
            yield

    # ---- reading -------------------------------------------------------------------------

    def read(self, series: Series, start: datetime | None = None,
             end: datetime | None = None) -> Any:
        if not self.lib.has_symbol(series.symbol):
            return empty_frame()
        rng = (start, end) if start or end else None
        with warnings.catch_warnings():
            # arcticdb builds its frame from a BlockManager, which pandas 2.2+ deprecates
            warnings.filterwarnings("ignore", "Passing a BlockManager", DeprecationWarning)
            frame = self.lib.read(series.symbol, date_range=rng).data
        if getattr(frame.index, "tz", UTC) is None:  # a symbol created empty keeps no zone
            frame.index = frame.index.tz_localize(UTC)
        return frame

    def series(self) -> list[Series]:
        found = []
        for symbol in self.lib.list_symbols():
            parts = symbol.split("/")
            if len(parts) in (3, 4) and parts[0].isdigit():
                size = parts[1]
                found.append(Series(int(parts[0]), _unslug(size), parts[2], len(parts) == 4))
        return sorted(found, key=lambda s: s.symbol)


_TINY = timedelta(microseconds=1)


def _unslug(slug: str) -> str:
    from traderctl_history.barsizes import BAR_SIZES

    return next((n for n, b in BAR_SIZES.items() if b.slug == slug), slug)


def _new_meta(series: Series, security: SecurityDefinition) -> dict[str, Any]:
    return {"con_id": series.con_id, "bar_size": series.bar_size, "what": series.what,
            "rth": series.rth, "security": security.to_dict(), "coverage": [],
            "nodata": [], "sources": []}


def _apply(meta: dict[str, Any], group: list[Write]) -> None:
    """The coverage and no-data spans after ``group``'s writes, in order."""
    for w in group:
        meta["security"] = w.security.to_dict()
        key = "coverage" if len(w.frame) else "nodata"
        meta[key] = _dump(merge_tagged(_spans(meta.get(key, [])),
                                       [(w.span[0], w.span[1], w.source)]))
        if len(w.frame):
            meta["nodata"] = _dump(_drop(_spans(meta.get("nodata", [])), [w.span]))
            meta["sources"] = sorted(set(meta.get("sources", [])) | {w.source})


def _inside(index: Any, spans: list[Span]) -> Any:
    import numpy as np

    mask = np.zeros(len(index), dtype=bool)
    for lo, hi in spans:
        mask |= (index >= lo) & (index < hi)
    return mask


def _check(results: list[Any]) -> None:
    """ArcticDB's batch calls return a DataError per failed symbol rather than raise."""
    from arcticdb import DataError

    errors = [r for r in results if isinstance(r, DataError)]
    if errors:
        raise RuntimeError("; ".join(f"{e.symbol}: {e.exception_string}" for e in errors))


def empty_frame() -> Any:
    import pandas as pd

    index = pd.DatetimeIndex([], tz=UTC, name="time")
    frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in COLUMNS}, index=index)
    frame["source"] = pd.Series([], dtype="object")
    return frame


def merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def merge_tagged(old: list[Tagged], new: list[Tagged]) -> list[Tagged]:
    """Union of spans: a new span wins where it overlaps an old one, adjacent spans of one
    source join."""
    out: list[Tagged] = []
    for lo, hi, src in sorted(_drop(old, [(a, b) for a, b, _ in new]) + new):
        if out and lo <= out[-1][1] and src == out[-1][2]:
            out[-1] = (out[-1][0], max(out[-1][1], hi), src)
        else:
            out.append((lo, hi, src))
    return out


def _drop(spans: list[Tagged], gone: list[Span]) -> list[Tagged]:
    """``spans`` minus ``gone``, each remainder keeping its source."""
    out: list[Tagged] = []
    for lo, hi, src in spans:
        out += [(a, b, src) for a, b in subtract([(lo, hi)], merge(gone))]
    return out


def _spans(raw: list[Any]) -> list[Tagged]:
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b), s) for a, b, s in raw]


def _dump(spans: list[Tagged]) -> list[list[str]]:
    return [[a.isoformat(), b.isoformat(), s] for a, b, s in spans]
