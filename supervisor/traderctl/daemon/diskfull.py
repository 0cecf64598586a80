"""Writes under ``data_dir`` that failed (ENOSPC, EIO, ...) and the recovery from them.

A full disk must not stop supervision: the state file is retried, log lines are
dropped and counted, and the supervisor says so once (``disk_full``) and once
more when every write works again (``disk_recovered``).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from traderctl.events import Event, utcnow

DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


class DiskHealth:
    """Which writers are failing, since when, and how many log lines were dropped."""

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self.emit = emit
        self.failing: dict[str, str] = {}  # writer -> error text
        self.since: str | None = None
        self.dropped_lines = 0
        self.dropped_total = 0

    def failed(self, writer: str, path: str, exc: OSError, dropped: int = 0) -> None:
        self.dropped_lines += dropped
        self.dropped_total += dropped
        first = not self.failing
        self.failing[writer] = f"{path}: {exc.strerror or exc}"
        if first:
            self.since = utcnow().isoformat()
        if first and self.emit is not None:
            self.emit(Event("disk_full", {"writer": writer, "path": path,
                                          "error": errno.errorcode.get(exc.errno or 0, str(exc)),
                                          "detail": self.failing[writer]}))

    def ok(self, writer: str) -> None:
        if writer not in self.failing:
            return
        del self.failing[writer]
        if not self.failing:
            if self.emit is not None:
                self.emit(Event("disk_recovered", {"since": self.since,
                                                   "dropped_lines": self.dropped_lines}))
            self.since, self.dropped_lines = None, 0

    def detail(self) -> str:
        if not self.failing:
            return ""
        return (f"cannot write under data_dir since {self.since} "
                f"({'; '.join(sorted(set(self.failing.values())))}); "
                f"{self.dropped_lines} log lines dropped")

    def status(self) -> dict[str, Any] | None:
        if not self.failing:
            return None
        return {"detail": self.detail(), "since": self.since, "writers": sorted(self.failing),
                "dropped_lines": self.dropped_lines}
