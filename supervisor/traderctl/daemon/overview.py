"""All services in a line: the summary ``status`` and systemd's ``STATUS=`` show, and
whether start-up has settled (systemd's ``READY=1``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traderctl.daemon.diskfull import DiskHealth
    from traderctl.services.runner import ServiceRunner


def summary(runners: Collection[ServiceRunner], disk: DiskHealth) -> str:
    """``2 running, 1 backoff``; the disk's trouble after it, while there is one."""
    counts: dict[str, int] = {}
    for runner in runners:
        counts[runner.state] = counts.get(runner.state, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no services"
    return f"{text}; {disk.detail()}" if disk.active else text


def startup_progress(runners: Collection[ServiceRunner], disk: DiskHealth) -> tuple[bool, str]:
    """Whether every autostart service is running (or done, or failed), and a STATUS."""
    autostart = [r for r in runners if r.spec["autostart"]]
    pending = [r for r in autostart if not (
        r.state == "running" or r.failed
        or (r.state == "stopped" and not r.want_up and r.last_exit is not None))]
    if not pending:
        return True, summary(runners, disk)
    up = len(autostart) - len(pending)
    waiting = ", ".join(f"{r.name} ({r.state})" for r in pending[:5])
    return False, f"starting: {up}/{len(autostart)} up; waiting for {waiting}"
