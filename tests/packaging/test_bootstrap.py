"""``scripts/demo`` installs what an operator runs: the example ``hello`` plugin is for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix) / "wheel-cache" / "bootstrap-run-venv"  # kept: the next run is fast

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_demo_venv_has_no_example_plugin() -> None:
    assert "scripts/bootstrap --run" in (REPO / "scripts" / "demo").read_text()
    env = {**os.environ, "TRADERCTL_VENV": str(VENV)}
    subprocess.run([str(REPO / "scripts" / "bootstrap"), "--run"], env=env, check=True,
                   capture_output=True, timeout=500)
    listing = subprocess.run([str(VENV / "bin" / "traderctl"), "--help"], capture_output=True,
                             text=True, check=True, timeout=60).stdout
    assert "supervise" in listing and "hello" not in listing
    # the development venv (what scripts/test bootstraps) has it, for the plugin tests
    dev = subprocess.run([sys.executable, "-m", "traderctl", "--help"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert "hello" in dev
