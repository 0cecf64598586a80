"""traderctl vs supervisord, side by side in one run.

1. Restart latency: SIGKILL a service's process, time until its replacement runs.
2. `traderctl status --json` vs `supervisorctl status` with 50 services.
3. Idle CPU and RSS of the supervisor with 100 services over a window (default 60 s).

supervisord (pip package `supervisor`) is installed into bench/.venvs/supervisord.
Run: .venv/bin/python bench/bench_supervisor.py [--kills 30] [--idle 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (
    Supervisord,
    TraderctlDaemon,
    median_ms,
    pct_ms,
    time_command,
    wait_for,
)

SLEEP = ["/bin/sleep", "3600"]


def children(pid: int) -> dict[int, str]:
    try:
        return {c.pid: c.name() for c in psutil.Process(pid).children() if c.name() == "sleep"}
    except psutil.Error:
        return {}


def restart_latency(sup_pid: int, kills: int) -> list[float]:
    """Kill the one child, poll (1 ms) the supervisor's children for its replacement."""
    samples = []
    wait_for(lambda: len(children(sup_pid)) == 1)
    for _ in range(kills):
        (victim,) = children(sup_pid)
        start = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        while True:
            now = children(sup_pid)
            if now and victim not in now:
                samples.append(time.perf_counter() - start)
                break
            time.sleep(0.001)
        time.sleep(0.05)  # let both settle into RUNNING before the next kill
    return samples


def idle_usage(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    procs = {name: psutil.Process(pid) for name, pid in pids.items()}
    before = {n: sum(p.cpu_times()[:2]) for n, p in procs.items()}
    time.sleep(seconds)
    return {
        n: ((sum(p.cpu_times()[:2]) - before[n]) / seconds * 100, p.memory_info().rss / 2**20)
        for n, p in procs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--status-runs", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--only", choices=["restart", "status", "idle"],
                        help="Run one part (they are independent).")
    args = parser.parse_args()
    parts = {"restart": bench_restart, "status": bench_status, "idle": bench_idle}
    for name, part in parts.items():
        if args.only in (None, name):
            part(args)


def bench_restart(args: argparse.Namespace) -> None:

    print(f"1. restart latency after SIGKILL ({args.kills} kills each)")
    results = {}
    for name, cls in (("traderctl", TraderctlDaemon), ("supervisord", Supervisord)):
        sup = cls(1, SLEEP)
        try:
            results[name] = restart_latency(sup.proc.pid, args.kills)
        finally:
            sup.stop()
        s = results[name]
        print(
            f"   {name:<12} p50 {median_ms(s):8.1f} ms  p90 {pct_ms(s, 0.9):8.1f} ms  "
            f"max {max(s) * 1000:8.1f} ms"
        )
    ratio = median_ms(results["supervisord"]) / median_ms(results["traderctl"])
    print(f"   traderctl p50 is {ratio:.0f}x faster (target: p50 under 20 ms)")


def bench_status(args: argparse.Namespace) -> None:
    print(f"2. status of 50 services ({args.status_runs} runs each)")
    ours, theirs = TraderctlDaemon(50, SLEEP), Supervisord(50, SLEEP)
    try:
        wait_for(lambda: len(children(ours.proc.pid)) == 50)
        wait_for(lambda: len(children(theirs.proc.pid)) == 50)
        time.sleep(1.5)
        # interleaved, one run of each at a time: the shared VM's load hits both alike
        a, b = [], []
        for _ in range(args.status_runs):
            a += time_command([*ours.traderctl, "status", "--json"], 1)
            b += time_command([*theirs.cli, "status"], 1)
    finally:
        ours.stop()
        theirs.stop()
    print(f"   traderctl status --json   median {median_ms(a):7.1f} ms")
    print(
        f"   supervisorctl status      median {median_ms(b):7.1f} ms  "
        f"(traderctl/supervisorctl = {median_ms(a) / median_ms(b):.2f}, target: at most 0.6)"
    )


def bench_idle(args: argparse.Namespace) -> None:
    print(f"3. idle supervisor with 100 services over {args.idle:g} s (both at once)")
    ours, theirs = TraderctlDaemon(100, SLEEP), Supervisord(100, SLEEP)
    try:
        wait_for(lambda: len(children(ours.proc.pid)) == 100, 60)
        wait_for(lambda: len(children(theirs.proc.pid)) == 100, 60)
        time.sleep(2)
        usage = idle_usage({"traderctl": ours.proc.pid, "supervisord": theirs.proc.pid}, args.idle)
    finally:
        ours.stop()
        theirs.stop()
    for name, (cpu, rss) in usage.items():
        print(f"   {name:<12} CPU {cpu:6.3f} %   RSS {rss:6.1f} MiB")


if __name__ == "__main__":
    main()
