"""What a running job's handler gets besides its job: pacing and the IB connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from traderctl.jobs.limiter import Grant, Limiter
from traderctl.jobs.rules import Profile, Request

if TYPE_CHECKING:
    from traderctl.jobs.ibconn import IBConnection
    from traderctl.jobs.model import Job


class NoConnection(RuntimeError):
    """The worker was started without IB settings (a pure-store test or bench)."""


class JobContext:
    def __init__(self, job: Job, limiter: Limiter, profile: Profile,
                 ib: IBConnection | None = None) -> None:
        self.job = job
        self.limiter = limiter
        self.profile = profile
        self._ib = ib
        self._grants: list[Grant] = []

    @asynccontextmanager
    async def pace(self, request: Request | None = None) -> AsyncIterator[Grant]:
        """Wait for the kind's profile to let ``request`` through, for the block's duration.

        The grant counts against every rule from the moment it is given; in-flight slots
        are freed when the block ends (the reply has arrived).
        """
        grant = await self.limiter.acquire(self.profile, request or Request(self.job.key))
        self._grants.append(grant)
        try:
            yield grant
        finally:
            self.limiter.release(grant)
            self._grants.remove(grant)

    async def ib(self) -> Any:
        """The worker's shared, connected ``ib_async.IB`` (connected on first use)."""
        if self._ib is None:
            raise NoConnection("this worker has no IB connection configured")
        return await self._ib.get()

    def close(self) -> None:
        """Free what a cancelled handler left acquired."""
        for grant in self._grants:
            self.limiter.release(grant)
        self._grants.clear()
