"""Start-up time of the CLI: `traderctl --help` and `traderctl config show` (target < 120 ms).

Run: .venv/bin/python bench/bench_cli.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import REPO, median_ms, pct_ms, time_command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "traderctl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["TRADERCTL_CONFIG"] = str(REPO / "configs" / "trader.yaml")
        baseline = time_command([sys.executable, "-c", "pass"], args.runs, env)
        print(f"python -c pass            median {median_ms(baseline):6.1f} ms")
        for argv in ([exe, "--help"], [exe, "config", "show"]):
            samples = time_command(argv, args.runs, {**env, "HOME": tmp} if False else env)
            verdict = "ok" if median_ms(samples) < 120 else "over the 120 ms target"
            print(
                f"{' '.join(['traderctl', *argv[1:]]):<25} median {median_ms(samples):6.1f} ms"
                f"  p90 {pct_ms(samples, 0.9):6.1f} ms  ({verdict})"
            )


if __name__ == "__main__":
    main()
