"""Fixtures for the symbols plugin: a config under tmp_path, the CLI in-process and as a child,
a local HTTP server serving the symbol-directory fixture files."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir(tmp_path: Path, clean_env: dict[str, str]) -> Path:
    """A ./configs/trader.yaml whose state lives under tmp_path (cwd is tmp_path)."""
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/run/none.sock\n  data_dir: {tmp_path}/data\n")
    return tmp_path / "data"


@pytest.fixture
def symbols_cli(cli: Callable[..., Result], data_dir: Path,
                ) -> Callable[..., Result]:
    """``symbols_cli(sim, "resolve", "AAPL")``: the real CLI, plugins from entry points."""
    def run(sim: Any, *args: str) -> Result:
        ib = ("--set", f"ib.port={sim.port}", "--set", "ib.host=127.0.0.1") if sim else ()
        return cli(*ib, "--log-level", "warning", "symbols", *args, entry_points=True)
    return run


@pytest.fixture
def child_env(clean_env: dict[str, str], data_dir: Path) -> dict[str, str]:
    return {**clean_env, "PYTHONUNBUFFERED": "1"}


def traderctl_child(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "traderctl", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Files(http.server.SimpleHTTPRequestHandler):
    """Serves DATA; ``/flaky/<name>`` fails with 503 twice first, ``/missing`` is a 404."""

    hits: dict[str, int] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(DATA), **kwargs)

    def do_GET(self) -> None:
        count = self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path.startswith("/flaky/"):
            if count <= 2:
                self.send_error(503, "try later")
                return
            self.path = self.path.removeprefix("/flaky")
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_files() -> Iterator[str]:
    """Base URL of a local HTTP server with the fixture files (the internet is not here)."""
    Files.hits = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
