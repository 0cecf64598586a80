"""Fixtures for the orders plugin: a config under tmp_path and the real CLI against a
simulated TWS, a second ib_async client to read back what TWS holds."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result


@pytest.fixture
def orders_config(tmp_path: Path, clean_env: dict[str, str]) -> Path:
    """./configs/trader.yaml (cwd is tmp_path); tests append an ``orders`` section."""
    path = tmp_path / "configs" / "trader.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"supervisor:\n  socket: {tmp_path}/run/none.sock\n"
                    f"  data_dir: {tmp_path}/data\n")
    return path


@pytest.fixture
def order_cli(cli: Callable[..., Result], orders_config: Path) -> Callable[..., Result]:
    """``order_cli(sim, "place", "AAPL", "BUY", "10", "--lmt", "1")``."""
    def run(sim: Any, *args: str) -> Result:
        return cli("--set", f"ib.port={sim.port}", "--set", "ib.host=127.0.0.1",
                   "--log-level", "warning", "order", *args, entry_points=True)
    return run


def placed(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["placed"]


def read_back(sim: Any) -> list[Any]:
    """Every open order as a second ib_async client decodes it (reqAllOpenOrders)."""
    from ib_async import IB

    async def main() -> list[Any]:
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=77, timeout=10)
        try:
            return list(await ib.reqAllOpenOrdersAsync())
        finally:
            ib.disconnect()

    return asyncio.run(main())


def audit_file(config: Path) -> list[dict[str, Any]]:
    """The records of ``<data_dir>/orders/audit.jsonl`` (data_dir under the config's root)."""
    path = config.parent.parent / "data" / "orders" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def status_of(sim: Any, order_id: int) -> str:
    return next(r.status for r in sim.orders if r.order_id == order_id)


def run_in_pty(args: list[str], cwd: Path, answer: bytes = b"") -> tuple[int, str]:
    """The real CLI on a pseudo-terminal; ``answer`` is typed at the prompt."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    proc = subprocess.Popen([sys.executable, "-m", "traderctl", *args], cwd=cwd,
                            stdin=follower, stdout=follower, stderr=follower,
                            env={**env, "COLUMNS": "200"})
    os.close(follower)
    seen, answered = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if answer and not answered and b"Send this order?" in seen:
            os.write(leader, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(leader)
    return proc.wait(10), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
