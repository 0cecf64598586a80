"""Job kinds for the tests, installed into worker processes as an entry-point plugin.

Every kind appends one line per execution to the file named by $JOBS_TEST_LOG
(``O_APPEND``: one write per line, atomic across processes), so a test sees every run,
duplicates included; the result stored with ``done`` says which run counted.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from traderctl import hookimpl
from traderctl.jobs import IBError, JobKind
from traderctl.jobs.profiles import historical_request


def record(event: str, job: Any, **fields: Any) -> None:
    path = os.environ.get("JOBS_TEST_LOG")
    if not path:
        return
    line = json.dumps({"event": event, "key": job.key, "id": job.id, "pid": os.getpid(),
                       "attempt": job.attempts, **fields}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


async def run_record(job: Any, ctx: Any) -> Any:
    record("start", job)
    await asyncio.sleep(float(job.payload.get("sleep", 0)))
    return {"key": job.key, "pid": os.getpid()}


async def run_paced(job: Any, ctx: Any) -> Any:
    p = job.payload
    request = historical_request(p["contract"], p.get("exchange", "SMART"),
                                 p.get("what", "TRADES"), end=job.key)
    async with ctx.pace(request) as grant:
        record("grant", job, t=grant.at, group=request.group, identity=request.identity,
               cost=request.cost)
        await asyncio.sleep(float(p.get("sleep", 0)))
    return {"granted_at": grant.at}


async def run_flaky(job: Any, ctx: Any) -> Any:
    record("start", job)
    errors = job.payload.get("errors", [])
    if job.attempts <= len(errors):
        code, message = errors[job.attempts - 1]
        if code == "timeout":
            raise TimeoutError(message)
        raise IBError(int(code), message)
    return {"ok": job.attempts}


async def run_ib_time(job: Any, ctx: Any) -> Any:
    record("start", job)
    ib = await ctx.ib()
    when = await ib.reqCurrentTimeAsync()
    record("answered", job)
    return {"time": when.isoformat()}


@hookimpl
def register_job_kinds(register: Any) -> None:
    register(JobKind("test.record", run_record, doc="Records each run."))
    register(JobKind("test.offline", run_record, needs_tws=False,
                     doc="Records each run; talks to no TWS."))
    register(JobKind("test.paced", run_paced, profile="ib_historical_small"))
    register(JobKind("test.flaky", run_flaky))
    register(JobKind("test.ib_time", run_ib_time, timeout=1.5))
