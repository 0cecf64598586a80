"""What the supervisor leaves on disk: children it started, and when it last looked at the clock.

After a crash or SIGKILL of the supervisor, the next start reads this file
and kills the children of the previous run (checked by pid *and* start time,
so a recycled pid is never hit) instead of starting duplicates next to them.
A save that fails (full disk) leaves the file dirty; :meth:`StateFile.retry`
writes it again once there is room, and supervision goes on meanwhile.
"""

from __future__ import annotations

import json
import os
from typing import Any

import psutil

from traderctl.daemon.diskfull import DiskHealth
from traderctl.logs import get_logger
from traderctl.services.process import kill_all, marked_processes

log = get_logger(__name__)


class StateFile:
    def __init__(self, path: str, health: DiskHealth | None = None) -> None:
        self.path = path
        self.health = health or DiskHealth()
        self.dirty = False
        self.data: dict[str, Any] = {"children": {}, "last_seen": None}
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                loaded = json.load(fh)
        except (OSError, ValueError):
            return
        if isinstance(loaded, dict):
            self.data.update(loaded)

    def save(self) -> bool:
        """Write the file atomically; False (and dirty, for :meth:`retry`) if it failed."""
        tmp = f"{self.path}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with open(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
            os.replace(tmp, self.path)
        except OSError as exc:
            self.dirty = True
            self.health.failed("state", self.path, exc)
            try:
                os.unlink(tmp)  # a half-written temp file only takes the space away
            except OSError:
                pass
            return False
        self.dirty = False
        self.health.ok("state")
        return True

    def retry(self) -> None:
        """Write again if the last save failed."""
        if self.dirty:
            self.save()

    def set_child(self, service: str, pid: int | None, create_time: float | None) -> None:
        if pid is None:
            self.data["children"].pop(service, None)
        else:
            self.data["children"][service] = {"pid": pid, "create_time": create_time}
        self.save()

    def kill_stale(self, owner: str) -> list[int]:
        """Kill recorded children (and marked strays) of a previous run; returns their pids."""
        victims: dict[int, psutil.Process] = {}
        for service, rec in self.data.get("children", {}).items():
            try:
                proc = psutil.Process(rec["pid"])
                if abs(proc.create_time() - rec["create_time"]) > 0.05:
                    continue  # the pid was recycled by an unrelated process
            except (psutil.Error, KeyError, TypeError):
                continue
            victims[proc.pid] = proc
            victims.update({p.pid: p for p in proc.children(recursive=True)})
            log.warning("stale_child_found", service=service, pid=proc.pid)
        victims.update({p.pid: p for p in marked_processes(owner)})
        kill_all(list(victims.values()))
        self.data["children"] = {}
        self.save()
        return sorted(victims)
