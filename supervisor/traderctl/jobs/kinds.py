"""Job kinds: what a plugin registers, and collecting them from the plugin manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traderctl.jobs.retry import Classifier, Verdict, classify
from traderctl.jobs.rules import Profile

if TYPE_CHECKING:
    from traderctl.jobs.context import JobContext
    from traderctl.jobs.model import Job
    from traderctl.plugin.manager import PluginManager

Handler = Callable[["Job", "JobContext"], Awaitable[Any]]


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its handler, the rate-limit profile it paces requests with, how
    its errors are classified, and how long one attempt may take (None: ``jobs.job_timeout``).

    ``needs_tws=False`` is for kinds that talk to something else (a vendor's REST API): the
    worker goes on running them while TWS is down or in a reset window.
    """

    name: str
    handler: Handler
    profile: str | Profile = "unlimited"
    classify: Classifier | None = None
    timeout: float | None = None
    doc: str = ""
    needs_tws: bool = True

    def verdict(self, exc: BaseException) -> Verdict:
        """The kind's own classifier first, the engine's IB table when it has no opinion."""
        if self.classify is not None:
            found = self.classify(exc)
            if found is not None:
                return found
        return classify(exc)


def collect_kinds(pm: PluginManager) -> dict[str, JobKind]:
    """Every registered kind by name; a plugin registering a bad or taken kind is logged and
    skipped."""
    return pm.registered_by_name("register_job_kinds", JobKind)
