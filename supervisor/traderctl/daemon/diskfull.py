"""Writes under ``data_dir`` that failed (ENOSPC, EIO, ...) and the recovery from them.

A full disk must not stop supervision: the state file is retried, log lines are
dropped and counted, and the supervisor says so once (``disk_full``) and once
more when every write works again (``disk_recovered``).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from typing import Any

from traderctl.events import Event, utcnow

DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


class DiskHealth:
    """Which writers are failing, since when, and how many log lines were dropped.

    A nearly full disk lets some writes through (the last page of a file still has room):
    recovery is declared only after :data:`QUIET` seconds without a failure, so the
    events do not flap with every line.
    """

    QUIET = 2.0

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self.emit = emit
        self.failing: dict[str, str] = {}  # writer -> error text
        self.active = False  # degraded since the first failure, until recovered
        self.since: str | None = None
        self.last_failure = 0.0
        self.dropped_lines = 0
        self.dropped_total = 0

    def failed(self, writer: str, path: str, exc: OSError, dropped: int = 0) -> None:
        self.dropped_lines += dropped
        self.dropped_total += dropped
        self.failing[writer] = f"{path}: {exc.strerror or exc}"
        self.last_failure = time.monotonic()
        if self.active:
            return
        self.active, self.since = True, utcnow().isoformat()
        if self.emit is not None:
            self.emit(Event("disk_full", {"writer": writer, "path": path,
                                          "error": errno.errorcode.get(exc.errno or 0, str(exc)),
                                          "detail": self.failing[writer]}))

    def ok(self, writer: str) -> None:
        if self.failing.pop(writer, None) is not None or self.active:
            self.poll()

    def poll(self) -> None:
        """Declare recovery once every writer works and none failed for QUIET seconds."""
        if not self.active or self.failing or time.monotonic() - self.last_failure < self.QUIET:
            return
        if self.emit is not None:
            self.emit(Event("disk_recovered", {"since": self.since,
                                               "dropped_lines": self.dropped_lines}))
        self.active, self.since, self.dropped_lines = False, None, 0

    def detail(self) -> str:
        if not self.active:
            return ""
        errors = "; ".join(sorted(set(self.failing.values()))) or "writes work again"
        return (f"cannot write under data_dir since {self.since} ({errors}); "
                f"{self.dropped_lines} log lines dropped")

    def status(self) -> dict[str, Any] | None:
        if not self.active:
            return None
        return {"detail": self.detail(), "since": self.since, "writers": sorted(self.failing),
                "dropped_lines": self.dropped_lines}
