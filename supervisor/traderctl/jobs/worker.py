"""The asyncio worker: claims jobs under a lease, runs them with bounded concurrency.

One loop claims as many ready jobs as there are free slots (after the gate says TWS
can serve), one task per job runs its kind's handler, one task renews the leases and
cancels jobs an operator cancelled. On stop, claiming ends, in-flight jobs get
``grace`` seconds to finish, and what is still running goes back to ``pending`` with
its attempt given back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from traderctl.aiotasks import cancel_and_wait
from traderctl.jobs.context import JobContext
from traderctl.jobs.gate import TwsGate
from traderctl.jobs.ibconn import IBConnection
from traderctl.jobs.kinds import JobKind
from traderctl.jobs.limiter import Limiter
from traderctl.jobs.model import Job
from traderctl.jobs.retry import RetryPolicy, Verdict
from traderctl.jobs.rules import Profile
from traderctl.jobs.store import JobStore, owner_id
from traderctl.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 4
    lease: float = 60.0
    poll: float = 0.5
    grace: float = 30.0
    job_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class Tally:
    """What this worker did, for progress and the exit summary."""

    done: int = 0
    failed: int = 0
    retried: int = 0
    refunded: int = 0


class Worker:
    def __init__(self, store: JobStore, limiter: Limiter, kinds: dict[str, JobKind],
                 profiles: dict[str, Profile], settings: WorkerSettings | None = None,
                 gate: TwsGate | None = None, ib: IBConnection | None = None,
                 batch_id: int | None = None) -> None:
        self.store, self.limiter, self.kinds = store, limiter, kinds
        self.offline_kinds = [name for name, kind in kinds.items() if not kind.needs_tws]
        self.profiles = profiles
        self.settings = settings or WorkerSettings()
        self.gate, self.ib, self.batch_id = gate, ib, batch_id
        self.owner = owner_id()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.tally = Tally()
        self.hurry = asyncio.Event()  # a second signal: skip the grace period
        self.on_finished: Callable[[Job, str], None] = lambda job, state: None

    def profile_of(self, kind: JobKind) -> Profile:
        if isinstance(kind.profile, Profile):
            return kind.profile
        return self.profiles[kind.profile]

    async def run(self, stop: asyncio.Event, until_done: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``until_done``, until nothing is left)."""
        if (recovered := self.store.recover()):
            log.info("jobs_recovered", count=recovered, reason="lease expired or worker died")
        renewer = asyncio.create_task(self._renew_loop(), name="jobs-renew")
        stopper = asyncio.create_task(stop.wait(), name="jobs-stop")
        try:
            while not stop.is_set():
                kinds = await self._claimable(stop)
                if stop.is_set():
                    break
                self._claim(kinds)
                if until_done and not self.tasks and self._nothing_left():
                    break
                await asyncio.wait([stopper, *self.tasks.values()],
                                   timeout=self.settings.poll,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._shutdown()
            for task in (renewer, stopper):
                task.cancel()
            await asyncio.gather(renewer, stopper, return_exceptions=True)

    async def _claimable(self, stop: asyncio.Event) -> list[str]:
        """The kinds to claim now: all of them while TWS can serve; while it cannot, those
        that need no TWS, or none (waiting at the gate) when every kind needs it."""
        if self.gate is None:
            return list(self.kinds)
        if not self.offline_kinds:
            await self.gate.wait_open(stop)
            return list(self.kinds)
        return list(self.kinds) if await self.gate.is_open() else self.offline_kinds

    def _claim(self, kinds: list[str]) -> None:
        free = self.settings.concurrency - len(self.tasks)
        if free <= 0:
            return
        for job in self.store.claim(self.owner, kinds, free, self.settings.lease,
                                    batch_id=self.batch_id):
            task = asyncio.create_task(self._run_job(job), name=f"job-{job.id}")
            self.tasks[job.id] = task
            task.add_done_callback(self._forget(job.id))

    def _forget(self, job_id: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self.tasks.pop(job_id, None)
        return forget

    def _nothing_left(self) -> bool:
        return self.store.next_ready_at(list(self.kinds), self.batch_id) is None \
            and not self.store.running(self.batch_id)

    async def _run_job(self, job: Job) -> None:
        kind = self.kinds[job.kind]
        ctx = JobContext(job, self.limiter, self.profile_of(kind), self.ib)
        try:
            async with asyncio.timeout(kind.timeout or self.settings.job_timeout):
                result = await kind.handler(job, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, kind, exc)
        else:
            self._finish(job, self.store.complete(job.id, self.owner, result), "done")
        finally:
            ctx.close()

    async def _failed(self, job: Job, kind: JobKind, exc: Exception) -> None:
        verdict = kind.verdict(exc)
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if verdict is Verdict.RESULT:
            result = {"no_data": True, "detail": str(exc)}
            self._finish(job, self.store.complete(job.id, self.owner, result), "done")
            return
        if verdict is Verdict.PERMANENT:
            self._finish(job, self.store.fail(job.id, self.owner, error, None), "failed")
            return
        if verdict is Verdict.OUTAGE and kind.needs_tws:
            if self.ib is not None:
                self.ib.reset()
            if self.gate is not None and (down := await self.gate.confirm_down(error)):
                log.warning("job_paused", job=job.id, kind=job.kind, error=error, reason=down)
                self.store.fail(job.id, self.owner, error, time.time(), refund=True)
                self.tally.refunded += 1
                return
        if verdict is Verdict.PACING:
            self.limiter.slow_down(self.profile_of(kind), f"job {job.id}: {error}")
        self._retry_or_give_up(job, error)

    def _retry_or_give_up(self, job: Job, error: str) -> None:
        policy = self.settings.retry
        if policy.exhausted(job.attempts):
            message = f"gave up after {job.attempts} attempts: {error}"
            self._finish(job, self.store.fail(job.id, self.owner, message, None), "failed")
            return
        delay = policy.delay(job.attempts)
        log.info("job_retry", job=job.id, kind=job.kind, attempt=job.attempts,
                 delay=round(delay, 3), error=error)
        self.store.fail(job.id, self.owner, error, time.time() + delay)
        self.tally.retried += 1

    def _finish(self, job: Job, recorded: bool, state: str) -> None:
        if not recorded:
            log.warning("job_lease_lost", job=job.id, kind=job.kind,
                        hint="cancelled or taken over; the outcome was not recorded")
            return
        if state == "done":
            self.tally.done += 1
        else:
            self.tally.failed += 1
        self.on_finished(job, state)

    async def _renew_loop(self) -> None:
        """Renew our leases, stop jobs cancelled meanwhile, recover other workers' dead ones."""
        while True:
            await asyncio.sleep(self.settings.lease / 3)
            if (recovered := self.store.recover()):
                log.info("jobs_recovered", count=recovered, reason="lease expired or worker died")
            running = list(self.tasks)
            held = self.store.renew(self.owner, running, self.settings.lease)
            for job_id in set(running) - held:
                if (task := self.tasks.get(job_id)) is not None:
                    log.info("job_cancelled", job=job_id, reason="cancelled or lease lost")
                    task.cancel()

    async def _shutdown(self) -> None:
        if self.tasks:
            log.info("jobs_finishing", count=len(self.tasks), grace=self.settings.grace)
            await self._drain()
        left, ids = list(self.tasks.values()), list(self.tasks)
        await cancel_and_wait(left)  # a job's ib_async call may swallow one cancel
        if (released := self.store.release(self.owner, ids)):
            log.info("jobs_released", count=released, reason="stopped before they finished")

    async def _drain(self) -> None:
        """Let in-flight jobs finish within the grace period (a second signal: at once)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.grace
        hurry = asyncio.create_task(self.hurry.wait())
        try:
            while self.tasks and not self.hurry.is_set() and loop.time() < deadline:
                await asyncio.wait([hurry, *self.tasks.values()], timeout=deadline - loop.time(),
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            hurry.cancel()
            await asyncio.gather(hurry, return_exceptions=True)
