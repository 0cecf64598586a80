"""A non-editable install works: build the wheel, install it into a fresh venv, run it there.

Everything runs from a directory outside the source tree, so a data file found relative
to the checkout (``configs/``, ``ibc/``) instead of shipped as package data fails here.
The wheel and its dependencies are cached in ``<venv>/wheel-cache`` (keyed by a hash of
the sources), so after the first run this costs a venv and a local install.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(sys.prefix) / "wheel-cache"
FAKE_IBC = REPO / "ibc" / "fake"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def source_hash() -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in (REPO / "supervisor" / "traderctl").rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, REPO / "setup.cfg", REPO / "pyproject.toml"]:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def deps_dir() -> Path:
    """The wheels of the dependencies, keyed by what declares them (setup.cfg)."""
    declared = hashlib.sha256((REPO / "setup.cfg").read_bytes()).hexdigest()[:16]
    return CACHE / f"deps-{declared}"


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                   check=True, timeout=500)


def built_wheel() -> Path:
    where = CACHE / f"traderctl-{source_hash()}"
    wheels = list(where.glob("traderctl-*.whl"))
    if not wheels:
        pip("wheel", "--no-deps", "-w", str(where), str(REPO))
        wheels = list(where.glob("traderctl-*.whl"))
    deps = deps_dir()
    complete = deps / ".complete"
    if not complete.exists():
        pip("wheel", "-w", str(deps), str(wheels[0]))
        complete.write_text("")
    return wheels[0]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding only the wheel and its dependencies."""
    wheel = built_wheel()
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", "--no-index",
        "--find-links", str(deps_dir()), str(wheel))
    return venv


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TRADERCTL_", "PYTHON", "VIRTUAL_ENV"))}
    return clean


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


def test_the_wheel_ships_the_data_files(fresh: Path, tmp_path: Path) -> None:
    code = ("from traderctl.tws import ini, windows; from traderctl.simulator import universe;"
            "print(ini.default_template()); print(windows.default_windows_file(None));"
            "print(universe.Universe.load().get(265598).symbol)")
    out = subprocess.run([str(fresh / "bin" / "python"), "-c", code], cwd=tmp_path, env=env(),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert all(line.startswith(str(fresh)) for line in out[:2]), out
    assert out[2] == "AAPL"


@pytest.fixture
def sim(fresh: Path, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([str(fresh / "bin" / "traderctl"), "sim-tws", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=tmp_path, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_sim_tws_serves_contract_details_from_the_wheel(fresh: Path, sim: int,
                                                        tmp_path: Path) -> None:
    code = (f"from ib_async import IB, Stock\nib = IB()\n"
            f"for _ in range(100):\n"
            f"    try:\n        ib.connect('127.0.0.1', {sim}, clientId=5, timeout=5); break\n"
            f"    except OSError:\n        import time; time.sleep(0.1)\n"
            f"print(len(ib.reqContractDetails(Stock('AAPL', 'SMART', 'USD'))))\nib.disconnect()")
    out = subprocess.run([str(fresh / "bin" / "python"), "-c", code], cwd=tmp_path, env=env(),
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) >= 1


def test_tws_services_run_from_the_wheel(fresh: Path, tmp_path: Path) -> None:
    api_sim, api_paper, cmd_port = free_port(), free_port(), free_port()
    (tmp_path / "jts").mkdir()
    config = tmp_path / "trader.yaml"
    config.write_text(json.dumps({
        "supervisor": {"socket": str(tmp_path / "run" / "ctl.sock"),
                       "data_dir": str(tmp_path / "data")},
        "services": {
            "sim": {"type": "tws", "mode": "simulated", "api_port": api_sim},
            "paper": {"type": "tws", "mode": "paper", "gateway": True, "tws_version": "1030",
                      "tws_path": str(tmp_path / "jts"), "ibc_path": str(FAKE_IBC),
                      "api_port": api_paper, "command_server_port": cmd_port,
                      "username": "demo", "password": "s3cret",
                      "env": {"TRADERCTL_PYTHON": str(fresh / "bin" / "python"),
                              "FAKE_IBC_SCENARIO": str(tmp_path / "scenario.json")}},
        }}))
    (tmp_path / "scenario.json").write_text(json.dumps({"ibc": {"login_seconds": 0.1}}))
    traderctl = [str(fresh / "bin" / "traderctl"), "--config", str(config)]
    err = (tmp_path / "supervise.err").open("w")
    proc = subprocess.Popen([*traderctl, "--log-format", "json", "supervise"], cwd=tmp_path,
                            env=env(), stdout=subprocess.DEVNULL, stderr=err)

    def states() -> dict[str, str]:
        run = subprocess.run([*traderctl, "status", "--json"], cwd=tmp_path, env=env(),
                             capture_output=True, text=True, check=False)
        if run.returncode == 4:
            return {}
        return {s["name"]: s["state"] for s in json.loads(run.stdout)["services"]}

    try:
        wait_for(lambda: states() == {"sim": "running", "paper": "running"}, 90,
                 "both tws services to run")
    finally:
        proc.terminate()
        proc.wait(30)
        err.close()
    log = (tmp_path / "supervise.err").read_text()
    assert "tws_reset_windows_missing" not in log  # the shipped reset-windows.yaml was found
    ini = (tmp_path / "data" / "services" / "paper" / "config.ini").read_text()
    assert "IbLoginId=demo" in ini  # rendered from the shipped template
