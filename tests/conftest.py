"""Shared fixtures: fresh plugin managers, a CLI runner, fake distributions on sys.path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from traderctl.cli.app import App
from traderctl.cli.main import build_cli
from traderctl.plugin.manager import PluginManager, build_plugin_manager

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment without TRADERCTL_* leaking in, state under tmp_path, cwd = tmp_path."""
    for name in list(os.environ):
        if name.startswith("TRADERCTL_") or name == "TRADER_CHECK":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    return dict(os.environ)


@pytest.fixture
def make_pm(clean_env: dict[str, str]) -> Callable[..., PluginManager]:
    def make(*extra: Any, entry_points: bool = False, env: dict[str, str] | None = None
             ) -> PluginManager:
        return build_plugin_manager(env={**clean_env, **(env or {})}, extra=extra,
                                    entry_points=entry_points)
    return make


@pytest.fixture
def cli(make_pm: Callable[..., PluginManager], clean_env: dict[str, str]
        ) -> Callable[..., Result]:
    """Run the real click CLI in-process: ``cli("config", "show", plugins=[...], env={...})``."""
    def invoke(*args: str, plugins: tuple[Any, ...] = (), env: dict[str, str] | None = None,
               entry_points: bool = False) -> Result:
        full_env = {**clean_env, **(env or {})}
        pm = make_pm(*plugins, entry_points=entry_points, env=env)
        runner = CliRunner()
        return runner.invoke(build_cli(pm), list(args), obj=App(pm, env=full_env),
                             env=env, catch_exceptions=False)
    return invoke


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def fake_distribution(root: Path, name: str, module_source: str, version: str = "1.0") -> Path:
    """A real installed distribution (dist-info + module) that entry-point discovery finds."""
    module = name.replace("-", "_")
    write(root / f"{module}.py", module_source)
    info = root / f"{module}-{version}.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    write(info / "entry_points.txt", f"[traderctl]\n{name} = {module}\n")
    return root


def run_traderctl(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                  timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The installed console script's code path, in a child process."""
    return subprocess.run([sys.executable, "-m", "traderctl", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout, check=False)


def _running_popen(obj: object) -> bool:
    try:
        return isinstance(obj, subprocess.Popen) and obj.poll() is None
    except ReferenceError:  # a dead weakref.proxy (websockets keeps them in log adapters)
        return False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A child process a test started and never waited for fails the run, with its argv
    (instead of an anonymous 'subprocess is still running' at interpreter exit)."""
    import gc

    leaked = [p for p in gc.get_objects() if _running_popen(p)]
    for proc in leaked:
        print(f"\nleaked child process {proc.pid}: {proc.args!r}", file=sys.stderr)
        proc.kill()
        proc.wait()
    if leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
