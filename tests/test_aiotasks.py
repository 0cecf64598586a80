"""cancel_and_wait ends tasks that swallow a cancellation (Python 3.11's wait_for race)."""

from __future__ import annotations

import asyncio

from traderctl.aiotasks import cancel_and_wait


async def _swallows_once(reached: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        reached.append("swallowed")  # as wait_for does when its inner await just finished
    await asyncio.Event().wait()  # goes on to wait for something that never comes


def test_a_task_that_swallows_the_first_cancellation_still_ends() -> None:
    async def body() -> tuple[list[str], bool]:
        reached: list[str] = []
        task = asyncio.ensure_future(_swallows_once(reached))
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_and_wait([task]), 5)
        return reached, task.cancelled()

    assert asyncio.run(body()) == (["swallowed"], True)


def test_one_cancel_then_gather_would_hang_on_it() -> None:
    async def body() -> bool:
        task = asyncio.ensure_future(_swallows_once([]))
        await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=0.3)
        await cancel_and_wait([task])
        return bool(done)

    assert asyncio.run(body()) is False  # why cancel_and_wait exists
