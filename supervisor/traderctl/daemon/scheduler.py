"""Cron schedules (``services.<name>.schedule``) on APScheduler 3's asyncio scheduler.

A run that fell into a time the supervisor was down is not silently lost: the
state file remembers when the supervisor last looked at the clock, and on
start every fire time since then is reported as a ``schedule_missed`` event.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from traderctl.events import Event, utcnow
from traderctl.services.schedule import cron_trigger
from traderctl.services.spec import service_specs

if TYPE_CHECKING:
    from traderctl.daemon.supervisor import Supervisor
    from traderctl.services.spec import ScheduleItem

HEARTBEAT = 30.0
MAX_MISSED_REPORTED = 20


class ServiceScheduler:
    def __init__(self, sup: Supervisor) -> None:
        self.sup = sup
        self.scheduler: Any = None
        self.heartbeat: asyncio.Task[None] | None = None

    def _schedules(self) -> list[tuple[str, int, ScheduleItem]]:
        return [(name, i, item) for name, spec in service_specs(self.sup.config).items()
                for i, item in enumerate(spec["schedule"])]

    def start(self) -> None:
        if not self._schedules():
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
        self._report_missed()
        self._add_jobs()
        self.scheduler.start()
        self.heartbeat = self.sup.spawn_task(self._beat())

    def _add_jobs(self) -> None:
        for name, i, item in self._schedules():
            trigger = cron_trigger(item["cron"], item["timezone"])
            self.scheduler.add_job(self._fire, trigger, args=[name, item["action"], item["cron"]],
                                   id=f"{name}:{i}", replace_existing=True)

    def reschedule(self) -> None:
        if self.scheduler is None:
            self.start()
            return
        self.scheduler.remove_all_jobs()
        self._add_jobs()

    async def _fire(self, name: str, action: str, cron: str) -> None:
        runner = self.sup.runners.get(name)
        self.sup.emit(Event("schedule_fired", {"service": name, "action": action, "cron": cron}))
        if runner is None:
            return
        if action == "stop":
            runner.stop("schedule")
        elif action == "start":
            runner.start("schedule")
        else:
            runner.restart("schedule")

    def _report_missed(self) -> None:
        last = self.sup.state.data.get("last_seen")
        now = utcnow()
        if not last:
            return
        since = datetime.fromisoformat(last)
        for name, _i, item in self._schedules():
            for when in missed_runs(item["cron"], item["timezone"], since, now):
                self.sup.emit(Event("schedule_missed", {
                    "service": name, "action": item["action"], "cron": item["cron"],
                    "scheduled_at": when.isoformat(), "reason": "supervisor was not running"}))

    async def _beat(self) -> None:
        while True:
            self.sup.state.data["last_seen"] = utcnow().isoformat()
            self.sup.state.save()
            await asyncio.sleep(HEARTBEAT)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            self.sup.state.data["last_seen"] = utcnow().isoformat()
            self.sup.state.save()


def missed_runs(cron: str, timezone: str, since: datetime, until: datetime) -> list[datetime]:
    """Fire times strictly after ``since`` and before ``until`` (UTC), at most a handful."""
    trigger = cron_trigger(cron, timezone)
    out: list[datetime] = []
    previous = None
    moment = since + timedelta(microseconds=1)
    while len(out) < MAX_MISSED_REPORTED:
        when = trigger.get_next_fire_time(previous, moment)
        if when is None or when >= until:
            break
        out.append(when.astimezone(until.tzinfo))
        previous, moment = when, when + timedelta(seconds=1)
    return out
