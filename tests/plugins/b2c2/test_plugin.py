"""The plugin as installed: entry point, light entry module, `b2c2 sim` as a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_traderctl

HEAVY = ("pydantic", "pydantic_core", "websockets", "textual", "requests", "rich", "structlog")
# Run the CLI in a child, then list sys.modules (-X importtime output can be cut short
# when the CLI exits, so it is not used here).
PROBE = """
import json, runpy, sys
sys.argv = ["traderctl", *json.loads(sys.argv[1])]
try:
    runpy.run_module("traderctl", run_name="__main__")
except SystemExit:
    pass
sys.__stderr__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def loaded_modules(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True,
                         text=True, cwd=cwd, env=env, timeout=30, check=False)
    line = run.stderr.rsplit("MODULES ", 1)[-1]
    return set(json.loads(line))


@pytest.mark.parametrize("args", [["--help"], ["b2c2", "--help"], ["config", "show"],
                                  ["plugins"]])
def test_plugin_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    loaded = loaded_modules(args, tmp_path)
    assert "traderctl_b2c2.plugin" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"`traderctl {' '.join(args)}` imported {heavy}"


def test_sim_process_serves_the_cli_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRADERCTL_") and k != "B2C2_APIKEY"}
    sim = subprocess.Popen([sys.executable, "-m", "traderctl", "b2c2", "sim", "--port", "0",
                            "--interval", "0.02"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert sim.stdout is not None
        banner = sim.stdout.readline()
        match = re.search(r"REST (\S+)  WebSocket (\S+)", banner)
        assert match, banner
        client_env = {**env, "TRADERCTL_B2C2__ENV": "custom",
                      "TRADERCTL_B2C2__API_URL": match.group(1),
                      "TRADERCTL_B2C2__WS_URL": match.group(2), "B2C2_APIKEY": "sim-token"}
        result = run_traderctl("b2c2", "balance", "--json", env=client_env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["USD"].startswith("1000000")
        result = run_traderctl("--log-level", "debug", "b2c2", "stream", "BTCUSD.SPOT",
                               "--count", "2", env=client_env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 2
        assert "b2c2_stream_connected" in result.stderr
        assert "sim-token" not in result.stderr
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(15) == 0
    finally:
        if sim.poll() is None:
            sim.kill()
        sim.wait()
        for pipe in (sim.stdout, sim.stderr):
            if pipe is not None:
                pipe.close()
