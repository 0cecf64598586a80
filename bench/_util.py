"""Shared helpers for the benchmarks: timing, a traderctl daemon, a supervisord in its own venv."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENVS = REPO / "bench" / ".venvs"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def pct_ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def time_command(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    subprocess.run(argv, capture_output=True, env=env, check=False)  # warm caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, check=False)
        samples.append(time.perf_counter() - start)
    return samples


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark set-up timed out")
        time.sleep(0.01)


def supervisord_venv() -> Path:
    """A separate venv holding supervisord (pip package `supervisor`), for comparison only."""
    venv = VENVS / "supervisord"
    if not (venv / "bin" / "supervisord").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "supervisor"], check=True)
    return venv


class TraderctlDaemon:
    def __init__(self, services: int, command: list[str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-traderctl-"))
        lines = [
            "supervisor:",
            f"  socket: {self.dir}/ctl.sock",
            f"  data_dir: {self.dir}/data",
            "services:",
        ]
        for i in range(services):
            lines += [
                f"  svc{i}:",
                f"    command: {command!r}".replace("'", '"'),
                "    backoff: {initial: 0s, factor: 1, max: 0s, jitter: 0}",
                "    start_limit: {burst: 1000, interval: 1s}",
            ]
        self.config = self.dir / "trader.yaml"
        self.config.write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "traderctl",
                "--config",
                str(self.config),
                "--log-level",
                "warning",
                "supervise",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.cli = [sys.executable, "-m", "traderctl", "--config", str(self.config)]
        self.traderctl = [
            str(Path(sys.executable).parent / "traderctl"),
            "--config",
            str(self.config),
        ]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Supervisord:
    def __init__(self, services: int, command: list[str]) -> None:
        venv = supervisord_venv()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-supervisord-"))
        sock = self.dir / "supervisor.sock"
        lines = [
            "[unix_http_server]",
            f"file={sock}",
            "chmod=0700",
            "[supervisord]",
            f"logfile={self.dir}/supervisord.log",
            f"pidfile={self.dir}/supervisord.pid",
            "nodaemon=true",
            "loglevel=warn",
            f"childlogdir={self.dir}",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "[supervisorctl]",
            f"serverurl=unix://{sock}",
        ]
        for i in range(services):
            lines += [
                f"[program:svc{i}]",
                f"command={' '.join(command)}",
                "autorestart=true",
                "startsecs=0",
                "startretries=1000",
            ]
        self.config = self.dir / "supervisord.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(
            [str(venv / "bin" / "supervisord"), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.cli = [str(venv / "bin" / "supervisorctl"), "-c", str(self.config)]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
