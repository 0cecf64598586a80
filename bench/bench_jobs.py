"""Job engine: limiter utilisation (one and two processes), store throughput, `jobs list`.

Targets (issue 11): the small-bar profile at a small time scale uses at least 97% of the
allowed rate with zero violations, in one process and in two sharing the budget; the
store submits and completes at least 2,000 jobs/s; `traderctl jobs list` of 100,000 jobs
answers in under 300 ms.

    .venv/bin/python bench/bench_jobs.py [--scale 0.002] [--windows 5] [--jobs 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._util import median_ms, time_command
from tests.jobs.rulecheck import Granted, violations

from traderctl.jobs.limiter import Limiter
from traderctl.jobs.model import JobFilter
from traderctl.jobs.profiles import HISTORICAL_SMALL, builtin_profiles
from traderctl.jobs.rules import Request
from traderctl.jobs.store import JobStore

MARGIN = 0.01  # jobs.pacing_margin's default
CONTRACTS = 40  # enough groups that the 10-minute rule, not the 2-second one, binds


def request(i: int, tag: str) -> Request:
    group = f"C{i % CONTRACTS}|SMART|{'BID_ASK' if i % 10 == 0 else 'TRADES'}"
    return Request(f"{group}|{tag}-{i}", group, 2 if i % 10 == 0 else 1)


async def hammer(path: str, scale: float, seconds: float, tag: str) -> list[list]:
    """Eight coroutines acquiring as fast as the limiter lets them, for ``seconds``."""
    # the shipped defaults: IB's windows times the time scale and the 1% pacing margin
    profile = builtin_profiles({"time_scale": scale, "pacing_margin": MARGIN})[
        "ib_historical_small"]
    limiter = Limiter(path)
    grants: list[list] = []
    deadline = time.time() + seconds
    counter = iter(range(10**9))

    async def one() -> None:
        while time.time() < deadline:
            req = request(next(counter), tag)
            grant = await limiter.acquire(profile, req)
            if grant.at < deadline:
                grants.append([grant.at, req.identity, req.group, req.cost])

    await asyncio.gather(*(one() for _ in range(8)))
    limiter.close()
    return grants


def utilisation(grants: list[list], scale: float) -> tuple[float, int, int]:
    """Granted cost after the opening burst over what 60 per window allows in that time.

    The first 60 go at once (the budget starts full); every later grant waits for an
    older one to leave the window, so from the first grant to the last the best possible
    is exactly 60 per window: the ratio is the limiter's share of that.
    """
    nominal = HISTORICAL_SMALL.scaled(scale)  # IB's rules, no margin: what TWS enforces
    found = violations(nominal, [Granted(t, Request(i, g, c)) for t, i, g, c in grants])
    window = 600.0 * scale
    first = min(g[0] for g in grants)
    later = [g for g in grants if g[0] > first + window / 2]
    allowed = 60 * (max(g[0] for g in later) - first) / window
    return sum(g[3] for g in later) / allowed, len(found), len(grants)


def bench_limiter(scale: float, windows: int, processes: int) -> None:
    seconds = 600.0 * scale * (windows + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/limiter.sqlite"
        Limiter(path).close()
        if processes == 1:
            grants = asyncio.run(hammer(path, scale, seconds, "p0"))
        else:
            children = [subprocess.Popen([sys.executable, __file__, "--child", path,
                                          "--scale", str(scale), "--seconds", str(seconds),
                                          "--tag", f"p{n}"], stdout=subprocess.PIPE)
                        for n in range(processes)]
            grants = []
            for child in children:
                out, _ = child.communicate()
                grants.extend(json.loads(out))
        ratio, broken, count = utilisation(grants, scale)
    verdict = "ok" if ratio >= 0.97 and broken == 0 else "BELOW TARGET"
    print(f"  {processes} process{'es' * (processes > 1)}: {count:5} grants over "
          f"{seconds:.1f} s, utilisation {ratio * 100:5.1f}% of 60 per {600 * scale:g} s, "
          f"{broken} violations  ({verdict})")


def bench_store(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(f"{tmp}/jobs.sqlite")
        start, cpu = time.perf_counter(), time.process_time()
        batch = store.create_batch("bench")
        for first in range(0, jobs, 1000):
            chunk = range(first, min(first + 1000, jobs))
            store.submit("bench", ((f"k{i}", {"i": i}) for i in chunk), batch)
        submitted = time.perf_counter()
        while claimed := store.claim("bench-worker", ["bench"], 50, 60.0):
            for job in claimed:
                store.complete(job.id, "bench-worker", {"ok": job.key})
        done, cpu = time.perf_counter(), time.process_time() - cpu
        assert store.counts(JobFilter(batch_id=batch))["done"] == jobs
        store.close()
    print(f"  submit {jobs} jobs   : {jobs / (submitted - start):8.0f} jobs/s")
    print(f"  claim+complete (one transaction per completion, 50 per claim): "
          f"{jobs / (done - submitted):8.0f} jobs/s")
    total = jobs / (done - start)
    print(f"  submit+complete       : {total:8.0f} jobs/s wall, {jobs / cpu:8.0f} jobs per "
          f"CPU-second  ({'ok' if total >= 2000 else 'BELOW TARGET'}: 2,000 wall)")


def bench_list(count: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.yaml"
        config.write_text(f"supervisor:\n  socket: {tmp}/s.sock\n  data_dir: {tmp}/data\n")
        store = JobStore(Path(tmp) / "data" / "jobs" / "jobs.sqlite")
        store.submit("bench", ((f"key-{i}", {"i": i}) for i in range(count)),
                     store.create_batch("bench"))
        store.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
        base = [sys.executable, "-m", "traderctl", "--config", str(config)]
        anchor = time_command([sys.executable, "-m", "traderctl", "--help"], runs, env)
        table = time_command([*base, "jobs", "list"], runs, env)
        as_json = time_command([*base, "jobs", "list", "--json"], runs, env)
        lines = subprocess.run([*base, "jobs", "list"], capture_output=True, text=True,
                               env=env, check=True).stdout.count("\n")
    print(f"  traderctl --help (anchor)     median {median_ms(anchor):6.1f} ms")
    for name, samples in (("jobs list", table), ("jobs list --json", as_json)):
        verdict = "ok" if statistics.median(samples) < 0.3 else "OVER the 300 ms target"
        print(f"  {name:18} {count} jobs median {median_ms(samples):6.1f} ms  "
              f"min {min(samples) * 1000:6.1f} ms  ({verdict})")
    print(f"  ({lines - 1} rows printed)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--list-jobs", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--tag", default="p")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(hammer(args.child, args.scale, args.seconds, args.tag))))
        return
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(f"1. limiter, ib_historical_small at time scale {args.scale} "
          f"(window {600 * args.scale:g} s, 8 concurrent requesters per process)")
    bench_limiter(args.scale, args.windows, 1)
    bench_limiter(args.scale, args.windows, 2)
    print("2. store throughput")
    bench_store(args.jobs)
    print(f"3. jobs list of {args.list_jobs} jobs ({args.runs} runs each)")
    bench_list(args.list_jobs, args.runs)


if __name__ == "__main__":
    main()
