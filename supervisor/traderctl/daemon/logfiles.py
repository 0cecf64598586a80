"""Per-service log files with size-based rotation (``name.log``, ``name.log.1`` ...)."""

from __future__ import annotations

import os
from collections import deque
from datetime import datetime
from typing import TextIO


class LogFile:
    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.fh: TextIO | None = None

    def write(self, ts: datetime, stream: str, line: str) -> None:
        if self.fh is None:
            self.fh = open(self.path, "a", encoding="utf-8", errors="replace")
        self.fh.write(f"{ts.isoformat(timespec='milliseconds')} {stream} {line}\n")
        self.fh.flush()
        if self.fh.tell() >= self.max_bytes:
            self.rotate()

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
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class LogFiles:
    def __init__(self, directory: str, max_bytes: int, backups: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.backups = backups
        self.files: dict[str, LogFile] = {}
        os.makedirs(directory, exist_ok=True)

    def get(self, service: str) -> LogFile:
        if service not in self.files:
            path = os.path.join(self.directory, f"{service}.log")
            self.files[service] = LogFile(path, self.max_bytes, self.backups)
        return self.files[service]

    def close(self) -> None:
        for log_file in self.files.values():
            log_file.close()
