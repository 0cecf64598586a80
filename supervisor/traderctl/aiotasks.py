"""Cancelling tasks so that they really end.

One ``Task.cancel()`` is not always enough: on Python 3.11 ``asyncio.wait_for`` drops a
cancellation that arrives as its inner await completes (ib_async's ``connectAsync`` runs
into this), and the task goes on to its next await as if nothing happened. A shutdown that
cancels once and then waits can hang forever on such a task, so cancellation is repeated
until every task is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

RECANCEL_EVERY = 0.5  # seconds between cancellations of a task that is still running


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until all are done, cancelling again those that go on."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_EVERY)
