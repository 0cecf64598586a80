"""Shell completion of service names: from the running supervisor (tests/daemon/test_control.py),
else from the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import write


def complete(config: Path, words: str, env: dict[str, str] | None = None) -> list[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    full.update(env or {})
    full.update({"_TRADERCTL_COMPLETE": "bash_complete", "COMP_WORDS": words,
                 "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))})
    run = subprocess.run([sys.executable, "-m", "traderctl"], capture_output=True, text=True,
                         env=full, timeout=30, check=False)
    return [line.split(",", 1)[1] for line in run.stdout.splitlines()
            if line.startswith("plain,")]


def test_service_names_complete_from_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "trader.yaml", f"""
        supervisor: {{socket: {tmp_path}/run/none.sock, data_dir: {tmp_path}/data}}
        services:
          tws: {{command: sleep 1}}
          collector: {{command: sleep 1}}
          strategy: {{command: sleep 1}}
    """)
    assert complete(config, f"traderctl --config {config} status ") == [
        "tws", "collector", "strategy"]
    assert complete(config, f"traderctl --config {config} restart co") == ["collector"]
    assert complete(config, f"traderctl --config {config} logs s") == ["strategy"]

