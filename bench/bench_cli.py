"""Start-up time of the CLI: `traderctl --help` and `traderctl config show` (target < 120 ms).

The interpreter's own start-up is measured in the same run, for scale: on a shared VM it
varies by a factor of two from hour to hour.
Run: .venv/bin/python bench/bench_cli.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import REPO, median_ms, pct_ms, time_command


def report(label: str, samples: list[float], target: float | None = None) -> None:
    verdict = ""
    if target is not None:
        verdict = "  (ok)" if median_ms(samples) < target else f"  (over the {target:g} ms target)"
    print(f"{label:<25} median {median_ms(samples):6.1f} ms  min {min(samples) * 1000:6.1f} ms"
          f"  p90 {pct_ms(samples, 0.9):6.1f} ms{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "traderctl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    env["TRADERCTL_CONFIG"] = str(REPO / "configs" / "trader.yaml")
    report("python -c pass", time_command([sys.executable, "-c", "pass"], args.runs, env))
    for argv in ([exe, "--help"], [exe, "config", "show"]):
        report(" ".join(["traderctl", *argv[1:]]), time_command(argv, args.runs, env), 120)


if __name__ == "__main__":
    main()
