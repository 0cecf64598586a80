"""The hook the job engine adds to the plugin contract (``pm.add_hookspecs``).

The built-in ``jobs`` plugin adds this module through the ``add_hookspecs`` hook, the
way any plugin adds hooks of its own; plugins then implement it like any other::

    from traderctl import hookimpl
    from traderctl.jobs import JobKind

    @hookimpl
    def register_job_kinds(register):
        register(JobKind("history.bars", download_bars, profile="ib_historical_small"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from traderctl import hookspec

if TYPE_CHECKING:
    from traderctl.jobs.kinds import JobKind


# ---- registration (once per process that runs or inspects jobs) ---------------------------

@hookspec
def register_job_kinds(register: Callable[[JobKind], None]) -> None:
    """Declare the job kinds this plugin can run.

    Called once per process by whatever needs the kinds: ``traderctl jobs worker``
    before it claims work, ``traderctl jobs list/show`` to describe kinds, a plugin's
    own command before it submits a batch. Called one plugin at a time; a plugin whose
    implementation raises, or that registers a name another plugin already took, is
    logged (``plugin_load_failed``) and its kinds are skipped.

    Call ``register(JobKind(name, handler, profile, classify, timeout))``: ``handler`` is
    ``async def handler(job, ctx) -> result`` (a JSON-able result, stored with the
    ``done`` state in one transaction); ``profile`` names a rate-limit profile
    (:mod:`traderctl.jobs.profiles`) that ``ctx.pace(request)`` applies; ``classify``
    maps an exception to a :class:`traderctl.jobs.retry.Verdict` or None to fall back to
    the engine's IB table. Result rule: return values are ignored.
    """
