"""The batch-job engine: a persistent queue, IB's rate limits shared across processes,
one retry policy, workers that pause while TWS is down, and progress.

Modules: :mod:`.store` (SQLite jobs and batches), :mod:`.rules` and :mod:`.profiles`
(rate-limit rules as data), :mod:`.limiter` (their budget shared through SQLite),
:mod:`.retry` (classification and backoff), :mod:`.gate` (is TWS up?), :mod:`.worker`,
:mod:`.runtime` (a worker from the config), :mod:`.progress`, :mod:`.spec` (the
``register_job_kinds`` hook). Nothing here imports ib_async at module level; handlers
that talk to TWS use :meth:`.context.JobContext.ib`.

The names below are imported on first use: the plugin host loads :mod:`.spec` at every
start-up, and that must not cost the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traderctl.jobs.kinds import JobKind
    from traderctl.jobs.retry import IBError, PermanentError, RetryPolicy, Verdict
    from traderctl.jobs.rules import InFlight, Profile, Request, Window

_HOMES = {"JobKind": "kinds", "IBError": "retry", "PermanentError": "retry",
          "RetryPolicy": "retry", "Verdict": "retry", "InFlight": "rules", "Profile": "rules",
          "Request": "rules", "Window": "rules"}

__all__ = ["IBError", "InFlight", "JobKind", "PermanentError", "Profile", "Request",
           "RetryPolicy", "Verdict", "Window"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
