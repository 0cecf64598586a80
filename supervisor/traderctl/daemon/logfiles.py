"""Per-service log files with size-based rotation (``name.log``, ``name.log.1`` ...).

A line is written with one ``write(2)`` on an unbuffered descriptor: when the disk
is full nothing is left half-buffered; the line is dropped, counted in
:class:`~traderctl.daemon.diskfull.DiskHealth`, and the next line tries again.
"""

from __future__ import annotations

import os
from collections import deque
from datetime import datetime

from traderctl.daemon.diskfull import DiskHealth
from traderctl.private import private_dirs


class LogFile:
    def __init__(self, path: str, max_bytes: int, backups: int,
                 health: DiskHealth | None = None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.health = health or DiskHealth()
        self.fd: int | None = None
        self.size = 0
        self.torn = False  # the last write stopped mid-line: start the next on a new line

    def write(self, ts: datetime, stream: str, line: str) -> bool:
        """Append one line; False if it was dropped (the disk is full or failing)."""
        text = f"{ts.isoformat(timespec='milliseconds')} {stream} {line}\n"
        data = ("\n" if self.torn else "").encode() + text.encode("utf-8", errors="replace")
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT
                                  | os.O_CLOEXEC, 0o600)
                self.size = os.fstat(self.fd).st_size
            self._write_all(data)
            self.torn = False
            if self.size >= self.max_bytes:
                self.rotate()
        except OSError as exc:
            self.health.failed("logs", self.path, exc, dropped=1)
            return False
        # one writer for all log files: they share the disk, and a service that is quiet
        # after a failed line must not keep the supervisor "full" once there is room again
        self.health.ok("logs")
        return True

    def _write_all(self, data: bytes) -> None:
        assert self.fd is not None
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError:
                self.torn = len(view) < len(data)
                raise
            self.size += n
            view = view[n:]

    def rotate(self) -> None:
        self.close()
        for i in range(self.backups - 1, 0, -1):
            older = f"{self.path}.{i}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{i + 1}")
        if self.backups:
            os.replace(self.path, f"{self.path}.1")
        else:
            os.remove(self.path)

    def tail(self, lines: int) -> list[str]:
        """The last ``lines`` lines across the current file and its newest backup."""
        out: deque[str] = deque(maxlen=lines)
        for path in (f"{self.path}.1", self.path):
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    out.extend(line.rstrip("\n") for line in fh)
            except OSError:
                continue
        return list(out)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            self.size = 0


class LogFiles:
    def __init__(self, directory: str, max_bytes: int, backups: int,
                 health: DiskHealth | None = None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.backups = backups
        self.health = health or DiskHealth()
        self.files: dict[str, LogFile] = {}
        try:
            private_dirs(directory)
        except OSError as exc:  # a full disk at start: every line is dropped and counted
            self.health.failed("logs_dir", directory, exc)

    def get(self, service: str) -> LogFile:
        if "logs_dir" in self.health.failing:
            try:
                private_dirs(self.directory)
                self.health.ok("logs_dir")
            except OSError:
                pass
        if service not in self.files:
            path = os.path.join(self.directory, f"{service}.log")
            self.files[service] = LogFile(path, self.max_bytes, self.backups, self.health)
        return self.files[service]

    def close(self) -> None:
        for log_file in self.files.values():
            log_file.close()
