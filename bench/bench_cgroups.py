"""Restart latency after SIGKILL with a cgroup per service vs without, side by side.

A child enters its cgroup through a tiny ``sh`` before it execs the command; this
measures what that costs on the path to a replacement (and what the cgroup kill of
the dead run's leftovers costs). Skips the cgroup half where cgroups cannot be created.
Run: .venv/bin/python bench/bench_cgroups.py [--kills 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import median_ms, pct_ms
from bench_supervisor import restart_latency


def start(cgroups: bool) -> subprocess.Popen[bytes]:
    root = Path(tempfile.mkdtemp(prefix="bench-cgroups-"))
    config = root / "trader.yaml"
    config.write_text(f"""supervisor:
  socket: {root}/ctl.sock
  data_dir: {root}/data
  cgroups: {str(cgroups).lower()}
services:
  svc:
    command: [/bin/sleep, "3600"]
    backoff: {{initial: 0s, factor: 1, max: 0s, jitter: 0}}
    start_limit: {{burst: 1000, interval: 1s}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    return subprocess.Popen([sys.executable, "-m", "traderctl", "--config", str(config),
                             "--log-level", "warning", "supervise"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def main() -> None:
    from traderctl.services.cgroup import ServiceCgroups

    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    args = parser.parse_args()
    groups, why_not = ServiceCgroups.create(tempfile.mkdtemp(prefix="bench-probe-"))
    modes = [False] + ([True] if groups else [])
    if groups:
        groups.remove()
    else:
        print(f"   (no cgroup run: {why_not})")
    print(f"restart latency after SIGKILL ({args.kills} kills each)")
    results = {}
    for cgroups in modes:
        proc = start(cgroups)
        try:
            results[cgroups] = samples = restart_latency(proc.pid, args.kills)
        finally:
            proc.terminate()
            proc.wait(30)
        label = "cgroup per service" if cgroups else "markers only"
        print(f"   {label:<20} p50 {median_ms(samples):7.1f} ms  p90 {pct_ms(samples, 0.9):7.1f}"
              f" ms  max {max(samples) * 1000:7.1f} ms")
    if len(results) == 2:
        print(f"   cgroup/markers p50 = {median_ms(results[True]) / median_ms(results[False]):.2f}")


if __name__ == "__main__":
    main()
