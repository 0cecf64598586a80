"""Bars in ArcticDB: one symbol per conId, bar size, data type (and RTH), UTC index.

Symbol ``<conId>/<bar size>/<WHAT>[/rth]`` in library ``bars``. Columns open, high, low,
close, volume, wap, count, source; the index is tz-aware UTC. The metadata holds the
security's definition and the coverage: the spans written (with their source) and the
spans IB answered with no data, so the planner never asks for them again.

Writes replace exactly the span they cover (``update`` with a ``date_range``), so a
re-downloaded range never duplicates. ArcticDB does not serialise two writers of one
symbol (the later version would drop the earlier's coverage), so every read-modify-write
of a symbol holds an ``flock`` on a file under the local lock folder; writers on other
machines sharing an S3 store must download disjoint securities.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
        lo, hi = span
        with self.locked(series):
            meta = self.metadata(series) or _new_meta(series, security)
            meta["security"] = security.to_dict()
            key = "coverage" if len(frame) else "nodata"
            meta[key] = _dump(merge_tagged(_spans(meta.get(key, [])), [(lo, hi, source)]))
            if len(frame):
                meta["nodata"] = _dump(_drop(_spans(meta.get("nodata", [])), [span]))
                meta["sources"] = sorted(set(meta.get("sources", [])) | {source})
            if not self.lib.has_symbol(series.symbol):
                self.lib.write(series.symbol, frame if len(frame) else empty_frame(),
                               metadata=meta, prune_previous_versions=True)
            elif len(frame):
                self.lib.update(series.symbol, frame, date_range=(lo, hi - _TINY),
                                metadata=meta, prune_previous_versions=True)
            else:
                self.lib.write_metadata(series.symbol, meta, prune_previous_versions=True)

    # ---- reading -------------------------------------------------------------------------

    def read(self, series: Series, start: datetime | None = None,
             end: datetime | None = None) -> Any:
        if not self.lib.has_symbol(series.symbol):
            return empty_frame()
        rng = (start, end) if start or end else None
        with warnings.catch_warnings():
            # arcticdb builds its frame from a BlockManager, which pandas 2.2+ deprecates
            warnings.filterwarnings("ignore", "Passing a BlockManager", DeprecationWarning)
            return self.lib.read(series.symbol, date_range=rng).data

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
