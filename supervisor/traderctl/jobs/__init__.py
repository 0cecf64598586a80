"""The batch-job engine: a persistent queue, IB's rate limits shared across processes,
one retry policy, workers that pause while TWS is down, and progress.

Modules: :mod:`.store` (SQLite jobs and batches), :mod:`.rules` and :mod:`.profiles`
(rate-limit rules as data), :mod:`.limiter` (their budget shared through SQLite),
:mod:`.retry` (classification and backoff), :mod:`.gate` (is TWS up?), :mod:`.worker`,
:mod:`.progress`, :mod:`.spec` (the ``register_job_kinds`` hook). Nothing here imports
ib_async; handlers that talk to TWS use :meth:`.context.JobContext.ib`.
"""

from traderctl.jobs.kinds import JobKind
from traderctl.jobs.retry import IBError, PermanentError, RetryPolicy, Verdict
from traderctl.jobs.rules import InFlight, Profile, Request, Window

__all__ = ["IBError", "InFlight", "JobKind", "PermanentError", "Profile", "Request",
           "RetryPolicy", "Verdict", "Window"]
