"""The runner's waits: probing until ready, watching liveness, and racing either against the
child's exit and an interrupt.

The driver is asked throughout: while it is ``waiting_on`` something outside the service
(a second factor on a phone, an announced restart), the readiness deadline stands still and
failed liveness probes are not counted; once it gives up, the wait ends at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from traderctl.aiotasks import cancel_and_wait
from traderctl.services.driver import Driver, ProbeSettings
from traderctl.services.probes import ProbeResult
from traderctl.services.process import Child

SetState = Callable[[str, str, str], None]  # state, detail, reason


async def race(child: Child, interrupt: asyncio.Event, *work: Awaitable[str]) -> str:
    """Wait for the first of: the child exits, an interrupt, or any ``work`` result."""
    async def exited() -> str:
        await asyncio.shield(child.exited)
        return "exited"

    async def interrupted() -> str:
        await interrupt.wait()
        return "interrupted"

    tasks = [asyncio.ensure_future(c) for c in (exited(), interrupted(), *work)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        # an exit wins a tie: it is the fact the operator needs to see
        first = next((t for t in done if t is tasks[0]), next(iter(done)))
        return first.result()
    finally:
        await cancel_and_wait(tasks)


async def probe_until_ok(driver: Driver, settings: ProbeSettings) -> str:
    """``ready``, the driver's reason to give up, or why the service is not ready in time."""
    deadline = time.monotonic() + settings.timeout
    last = ProbeResult(False, "no attempt")
    mark = time.monotonic()
    while True:
        now = time.monotonic()
        waiting = driver.waiting_on() is not None
        if waiting:
            deadline += now - mark  # the clock stands still while a human is asked
        mark = now
        if (gave_up := driver.give_up()) is not None:
            return gave_up
        if now >= deadline:
            break
        try:
            # while waiting the probe's own timeout bounds it, not the (paused) deadline
            last = await asyncio.wait_for(settings.probe(), None if waiting else deadline - now)
        except TimeoutError:
            break
        if last.ok:
            return "ready"
        pause = settings.interval if waiting else min(
            settings.interval, max(0.0, deadline - time.monotonic()))
        await asyncio.sleep(pause)
    return f"not ready after {settings.timeout:g}s: {last.detail}"


async def watch_liveness(driver: Driver, settings: ProbeSettings, set_state: SetState) -> str:
    """Probe until ``failures`` in a row that the driver cannot remedy; returns why."""
    await asyncio.sleep(settings.initial_delay)
    failures = 0
    started = time.monotonic()
    while True:
        pause = settings.interval
        if settings.fixed_rate:
            pause = max(0.0, started + settings.interval - time.monotonic())
        await asyncio.sleep(pause)
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(settings.probe(), settings.timeout)
        except TimeoutError:
            result = ProbeResult(False, f"no answer within {settings.timeout:g}s")
        if (gave_up := driver.give_up()) is not None:
            return gave_up
        if result.ok or driver.waiting_on() is not None:
            failures = 0  # a failure while waiting on a human is not counted
        else:
            failures += 1
        driver.observed(result, failures)
        if failures >= settings.failures:
            set_state("unhealthy", result.detail, "liveness")
            if not await driver.remedy(result, failures):
                return f"unhealthy: {result.detail}"
            failures = 0
            set_state("running", driver.running_detail(), "remedied")
