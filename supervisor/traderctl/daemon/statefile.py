"""What the supervisor leaves on disk: children it started, and when it last looked at the clock.

After a crash or SIGKILL of the supervisor, the next start reads this file
and kills the children of the previous run (checked by pid *and* start time,
so a recycled pid is never hit) instead of starting duplicates next to them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import psutil

from traderctl.logs import get_logger
from traderctl.services.process import kill_all, marked_processes

log = get_logger(__name__)


class StateFile:
    def __init__(self, path: str) -> None:
        self.path = path
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

    def save(self) -> None:
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh)
        os.replace(tmp, self.path)

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
