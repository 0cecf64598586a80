"""Commands that only read config or talk to the daemon import nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("ib_async", "pandas", "requests", "bs4", "arcticdb", "rich", "apscheduler", "structlog")


def imported_modules(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "traderctl", *args],
                         capture_output=True, text=True, cwd=cwd, env=env, timeout=30,
                         check=False)
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--help"], ["config", "show"], ["status"], ["plugins"],
                                  ["config", "check"]])
def test_no_heavy_imports(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/none.sock\n  data_dir: {tmp_path}/data\n"
        "services:\n  a:\n    command: sleep 1\n"
        "    schedule: [{action: restart, cron: '0 9 * * 1-5', timezone: Europe/Zurich}]\n")
    loaded = imported_modules(args, tmp_path)
    assert "traderctl.cli.fast" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"`traderctl {' '.join(args)}` imported {heavy}"


def test_jobs_list_needs_neither_click_nor_the_plugin_host(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/none.sock\n  data_dir: {tmp_path}/data\n")
    loaded = imported_modules(["jobs", "list", "--state", "failed", "--limit=5"], tmp_path)
    assert "traderctl.jobs.store" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("click", "pluggy")}
    # a value the fast parser refuses goes to click, which explains it
    assert "click" in imported_modules(["jobs", "list", "--state", "bogus"], tmp_path)
