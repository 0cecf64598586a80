"""Progress of a batch (or the whole store): a rich bar on a terminal, events otherwise.

``batch_progress`` events are JSON lines on stdout; run as a supervised service, each
line becomes part of the supervisor's event stream (``traderctl events``, ``logs``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from traderctl.events import Event
from traderctl.jobs.model import FINISHED, JobFilter

RATE_WINDOW = 60.0  # seconds of history the rate (and so the ETA) is computed over


@dataclass
class Snapshot:
    batch: int | None
    counts: dict[str, int]
    rate: float          # finished jobs per second, recent
    eta: float | None    # seconds until nothing is pending or running
    pacing_wait: float   # seconds the limiter currently makes a job wait
    paused: str | None   # why workers wait for TWS, if they do

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return sum(self.counts[s] for s in FINISHED)

    def fields(self) -> dict[str, Any]:
        return {"batch": self.batch, **self.counts, "total": self.total,
                "rate": round(self.rate, 3), "eta": None if self.eta is None else round(self.eta),
                "pacing_wait": round(self.pacing_wait, 3), "paused": self.paused}


class Meter:
    """Finished-jobs rate over the last minute, and the ETA it implies."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.samples: deque[tuple[float, int]] = deque()

    def measure(self, finished: int, remaining: int) -> tuple[float, float | None]:
        now = self.clock()
        self.samples.append((now, finished))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        first_t, first_n = self.samples[0]
        rate = (finished - first_n) / (now - first_t) if now > first_t else 0.0
        eta = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
        return rate, eta


class Reporter(Protocol):
    def show(self, snap: Snapshot) -> None: ...
    def event(self, name: str, fields: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class EventReporter:
    """``batch_progress`` (and pause/resume) events as JSON lines on stdout."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def show(self, snap: Snapshot) -> None:
        self.event("batch_progress", snap.fields())

    def event(self, name: str, fields: dict[str, Any]) -> None:
        self.stream.write(json.dumps(Event(name, fields).to_dict(), default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class RichReporter:
    """A live bar on stderr: done, failed, rate, ETA and the current pacing wait."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total}"),
                                 TextColumn("{task.fields[status]}"),
                                 console=console or Console(stderr=True), transient=False)
        self.task = self.progress.add_task("jobs", total=None, status="")
        self.progress.start()

    def show(self, snap: Snapshot) -> None:
        eta = "-" if snap.eta is None else f"{snap.eta:.0f}s"
        status = (f"done {snap.counts['done']}  failed {snap.counts['failed']}  "
                  f"{snap.rate:.2f}/s  eta {eta}  pacing wait {snap.pacing_wait:.1f}s")
        if snap.paused:
            status += f"  [yellow]paused: {snap.paused}"
        label = "jobs" if snap.batch is None else f"batch {snap.batch}"
        self.progress.update(self.task, description=label, total=snap.total,
                             completed=snap.finished, status=status)

    def event(self, name: str, fields: dict[str, Any]) -> None:
        self.progress.console.log(name, ", ".join(f"{k}={v}" for k, v in fields.items()))

    def close(self) -> None:
        self.progress.stop()


def make_reporter(tty: bool | None = None) -> Reporter:
    use_rich = sys.stderr.isatty() if tty is None else tty
    return RichReporter() if use_rich else EventReporter()


async def report_progress(snapshot: Callable[[], Snapshot], reporter: Reporter,
                          interval: float) -> None:
    """Show a snapshot every ``interval`` seconds until cancelled (and once at the end)."""
    try:
        while True:
            reporter.show(snapshot())
            await asyncio.sleep(interval)
    finally:
        reporter.show(snapshot())


def snapshotter(store: Any, limiter: Any, gate: Any, batch_id: int | None
                ) -> Callable[[], Snapshot]:
    meter = Meter()
    flt = JobFilter(batch_id=batch_id)

    def take() -> Snapshot:
        counts = store.counts(flt)
        remaining = counts["pending"] + counts["running"]
        rate, eta = meter.measure(sum(counts[s] for s in FINISHED), remaining)
        return Snapshot(batch_id, counts, rate, eta, limiter.waiting,
                        gate.reason if gate is not None else None)
    return take
