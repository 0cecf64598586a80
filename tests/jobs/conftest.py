"""Job-store fixtures: a config in tmp_path and worker processes with the test kinds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import fake_distribution
from traderctl.jobs.store import JobStore

HERE = Path(__file__).parent


class Clock:
    """A hand-driven clock for stores, limiters and meters: ``clock.now += 5``."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class JobsEnv:
    """A config file, an environment with the test kinds installed, and helpers."""

    def __init__(self, root: Path, jobs: str = "") -> None:
        self.root = root
        self.log = root / "runs.jsonl"
        self.config = root / "jobs.yaml"
        self.socket = f"{root}/run/traderctl.sock"
        self.write_config(jobs)
        plugins = fake_distribution(root / "site", "traderctl-jobs-test-kinds",
                                    (HERE / "kinds_plugin.py").read_text())
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
        path = [str(plugins), str(HERE.parent.parent), self.env.get("PYTHONPATH", "")]
        self.env.update(PYTHONPATH=os.pathsep.join(p for p in path if p),
                        JOBS_TEST_LOG=str(self.log))
        self.procs: list[subprocess.Popen[str]] = []

    def write_config(self, jobs: str = "", extra: str = "") -> None:
        """``jobs``: YAML keys of the jobs section, over quick test defaults."""
        section = {"poll": "50ms", "lease": "3s", "grace": "5s",
                   "retry": {"base": "10ms", "cap": "50ms", "max_attempts": 3},
                   **(yaml.safe_load(jobs) or {})}
        self.config.write_text(textwrap.dedent(f"""
            supervisor:
              socket: {self.socket}
              data_dir: {self.root}/data
            logging:
              format: json
            """) + yaml.safe_dump({"jobs": section}) + textwrap.dedent(extra))

    @property
    def store_path(self) -> Path:
        return self.root / "data" / "jobs" / "jobs.sqlite"

    def store(self) -> JobStore:
        return JobStore(self.store_path)

    def cli(self, *args: str, input: str | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "traderctl", "--config", str(self.config),
                               *args], capture_output=True, text=True, env=self.env,
                              input=input, timeout=timeout, check=False)

    def worker(self, *args: str) -> subprocess.Popen[str]:
        with (self.root / f"worker{len(self.procs)}.err").open("w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "traderctl", "--config",
                                     str(self.config), "jobs", "worker", *args],
                                    stdout=subprocess.DEVNULL, stderr=err, text=True,
                                    env=self.env)
        self.procs.append(proc)
        return proc

    def runs(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        return [r for r in lines if event is None or r["event"] == event]

    def stderr(self, index: int = 0) -> str:
        return (self.root / f"worker{index}.err").read_text()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def jobs_env(tmp_path: Path) -> Iterator[Callable[..., JobsEnv]]:
    made: list[JobsEnv] = []

    def make(jobs: str = "") -> JobsEnv:
        env = JobsEnv(tmp_path, jobs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


def submit(env: JobsEnv, kind: str, items: list[tuple[str, Any]], batch: str = "b"
           ) -> dict[str, Any]:
    lines = "".join(json.dumps({"key": k, "payload": p}) + "\n" for k, p in items)
    run = env.cli("jobs", "submit", kind, "--batch", batch, input=lines)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
