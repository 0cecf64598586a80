"""The fake IBC launcher as a process: arguments, ini, command server, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ib_async import IB

from tests.simulator.helpers import run

pytestmark = pytest.mark.timeout(25)
SCRIPT = Path(__file__).resolve().parents[2] / "ibc" / "fake" / "scripts" / "ibcstart.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(args: list[str], tmp_path: Path, scenario: dict | None = None,
            stdout: object = subprocess.PIPE) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_IBC_", "PYTHONPATH"))}
    # a bare interpreter: traderctl is not installed there and structlog may be missing
    env["TRADERCTL_PYTHON"] = shutil.which("python3") or "python3"
    if scenario is not None:
        (tmp_path / "scenario.json").write_text(json.dumps(scenario))
        env["FAKE_IBC_SCENARIO"] = str(tmp_path / "scenario.json")
    return subprocess.Popen(
        [str(SCRIPT), *args], env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
    )


def _ini(tmp_path: Path, api: int, cmd: int, extra: str = "") -> Path:
    ini = tmp_path / "config.ini"
    ini.write_text(
        f"IbLoginId=edemo\nIbPassword=demouser\nTradingMode=paper\nOverrideTwsApiPort={api}\n"
        f"CommandServerPort={cmd}\nSuppressInfoMessages=no\n{extra}"
    )
    return ini


def _command(port: int, line: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(line.encode() + b"\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
            if line.upper() not in ("STOP", "RESTART", "EXIT") and data.endswith(b"\n"):
                break
        return data.decode().splitlines()


def _reap(proc: subprocess.Popen) -> None:
    """Kill a launcher a failed assertion left running, and collect it and its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=10)


def _wait_port(port: int, open_: bool, timeout: float = 20.0) -> None:
    # the launcher starts a fresh interpreter and the simulator: seconds on a loaded box
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(port) == open_:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not become {'open' if open_ else 'closed'}")


def _approve(approve: Path, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Approve on the "phone" until ``done``: the fake removes the file when a prompt opens,
    so one touch before the prompt (a slow start on a loaded machine) would be lost."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the approval never took"
        approve.touch()
        time.sleep(0.1)


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _output_until(path: Path, done: Callable[[str], bool], timeout: float = 30.0) -> str:
    """The launcher's output (written to ``path``) once ``done`` holds for it."""
    deadline = time.monotonic() + timeout
    while not done(text := path.read_text()):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    return text


async def _current_time(port: int) -> float:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=9, timeout=4)
    try:
        return (await ib.reqCurrentTimeAsync()).timestamp()
    finally:
        ib.disconnect()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["1019", "--ibc-ini=/nonexistent/config.ini"], 6),
        (["1019", "--bogus"], 3),
        (["1019", "--mode=demo", "--ibc-ini=/x"], 3),
        (["--mode=paper"], 2),
        (["1019", "--ibc-path=/nonexistent/ibc"], 5),
    ],
)
def test_bad_arguments_exit_codes(args, code, tmp_path):
    proc = _launch(args, tmp_path)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == code, err
    assert "An error has occurred" in err


def test_start_serves_api_and_stop_exits_0(tmp_path):
    api, cmd = _free_port(), _free_port()
    proc = _launch(
        ["1019", "--gateway", f"--ibc-ini={_ini(tmp_path, api, cmd)}", "--mode=paper"],
        tmp_path,
        {"ibc": {"login_seconds": 0.2}},
    )
    try:
        _wait_port(api, True)
        assert abs(run(_current_time(api)) - time.time()) < 5
        assert _command(cmd, "RECONNECTACCOUNT") == ["OK "]
        assert _command(cmd, "NOPE") == ["ERROR Command invalid"]
        assert _command(cmd, "STOP") == ["INFO Closing IBC", "OK Shutting down: STOP command"]
        out, _ = proc.communicate(timeout=10)
    finally:
        _reap(proc)
    assert proc.returncode == 0
    assert "IBC: Login has completed" in out
    assert "Login has completed: exiting via [File, Close] menu" in out
    assert out.rstrip().endswith("Gateway finished")


def test_restart_is_warm_through_the_script_loop_and_sigterm_exits_143(tmp_path):
    api, cmd = _free_port(), _free_port()
    approve = tmp_path / "approved"
    settings = tmp_path / "settings"
    settings.mkdir()
    scenario = {
        "ibc": {
            "login_seconds": 0.1,
            "restart_seconds": 0.6,
            "script_restart_delay": 0.1,
            "second_factor": True,
            "approve_file": str(approve),
        }
    }
    proc = _launch(["1019", f"--ibc-ini={_ini(tmp_path, api, cmd)}",
                    f"--tws-settings-path={settings}"], tmp_path, scenario)
    try:
        time.sleep(0.6)
        _wait_port(api, False)  # second factor pending: API port closed
        _approve(approve, lambda: _port_open(api))
        assert _command(cmd, "RESTART") == ["INFO Restarting TWS", "OK RESTART in progress"]
        _wait_port(api, False, timeout=2)
        _wait_port(api, True, timeout=3)  # back without a second factor
        run(_current_time(api))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        _reap(proc)
    assert proc.returncode == 143
    assert out.count("Second Factor Authentication initiated") == 1
    lines = [line.split(" IBC: ")[-1] for line in out.splitlines()]
    assert "IBC returned exit status 0" in lines and "Re-starting session" in lines
    assert any(line.startswith("autorestart file found at ") for line in lines)
    assert "IBC returned exit status 143" in lines and lines[-1] == "TWS finished"
    assert not list(settings.glob("*/autorestart"))  # consumed by the restart


def test_an_unanswered_prompt_logs_in_again_instead_of_exiting_87(tmp_path):
    api, cmd = _free_port(), _free_port()
    scenario = {"ibc": {"login_seconds": 0.1, "second_factor": True,
                        "second_factor_timeout": 0.3, "relogin_delay": 0.1}}
    ini = _ini(tmp_path, api, cmd, "ReloginAfterSecondFactorAuthenticationTimeout=yes\n")
    log = tmp_path / "out.txt"
    with log.open("w") as out_file:
        proc = _launch(["1019", f"--ibc-ini={ini}", "--on2fatimeout=exit"], tmp_path, scenario,
                       stdout=out_file)
        try:
            _output_until(log, lambda text: text.count("Authentication initiated") >= 3)
            assert proc.poll() is None  # still waiting for a phone, not exited
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)
    out = log.read_text()
    assert proc.returncode == 143, out
    assert out.count("Re-login after second factor authentication timeout in 5 second") >= 2
    assert out.count("Second Factor Authentication initiated") >= 3
    assert "exit status 87" not in out


def test_acknowledged_but_not_logged_in_exits_87(tmp_path):
    api, cmd = _free_port(), _free_port()
    approve = tmp_path / "approved"
    scenario = {"ibc": {"login_seconds": 0.1, "second_factor": True, "login_stalls": True,
                        "approve_file": str(approve)}}
    ini = _ini(tmp_path, api, cmd, "ReloginAfterSecondFactorAuthenticationTimeout=yes\n"
                                   "SecondFactorAuthenticationExitInterval=1\n")
    proc = _launch(["1019", f"--ibc-ini={ini}", "--on2fatimeout=exit"], tmp_path, scenario)
    _approve(approve, lambda: proc.poll() is not None, timeout=15)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 87, out
    assert "If login has not completed, IBC will exit in 1 seconds" in out
    assert "Exiting after error with exit code=1111" in out
    assert "IBC returned exit status 87" in out


def test_a_wrong_password_loops_in_the_script_like_real_ibc(tmp_path):
    api, cmd = _free_port(), _free_port()
    scenario = {"ibc": {"login_seconds": 0.05, "script_restart_delay": 0.05,
                        "login_failure": {"kind": "failed"}}}
    log = tmp_path / "out.txt"
    with log.open("w") as out_file:
        proc = _launch(["1019", f"--ibc-ini={_ini(tmp_path, api, cmd)}"], tmp_path, scenario,
                       stdout=out_file)
        try:
            # nobody stops it: IBC's script cold-restarts and tries the same password again
            _output_until(log, lambda text: text.count("IBC: Login failed") >= 3)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)
    out = log.read_text()
    assert proc.returncode == 143
    assert out.count("IBC will cold-restart shortly") >= 2
    assert "Login has completed" not in out


def test_gateway_restart_takes_effect_at_the_next_minute(tmp_path):
    api, cmd = _free_port(), _free_port()
    scenario = {"ibc": {"login_seconds": 0.05, "restart_seconds": 0.1,
                        "script_restart_delay": 0.05, "restart_at_most": 1.0}}
    proc = _launch(["1019", "--gateway", f"--ibc-ini={_ini(tmp_path, api, cmd)}"], tmp_path,
                   scenario)
    try:
        _wait_port(api, True)
        info, first, second = _command(cmd, "RESTART")
        assert (info, first) == ("INFO Restarting TWS", "OK RESTART in progress")
        assert re.fullmatch(r"OK RESTART at \d\d:\d\d [AP]M", second)
        _wait_port(api, True, timeout=0.5)  # not at once: at the minute (here at most 1 s)
        _wait_port(api, False, timeout=3)
        _wait_port(api, True, timeout=3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 143 and "Re-starting session" in out


def test_login_dialog_timeout_88_is_looped_by_the_script(tmp_path):
    api, cmd = _free_port(), _free_port()
    ini = _ini(tmp_path, api, cmd)
    scenario = {"ibc": {"login_dialog_timeouts": 1, "login_dialog_timeout_seconds": 0.2,
                        "script_restart_delay": 0.1, "login_seconds": 0.1}}
    proc = _launch(["1019", f"--ibc-ini={ini}"], tmp_path, scenario)
    try:
        _wait_port(api, True)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        _reap(proc)
    assert proc.returncode == 143
    assert "IBC closing after TWS/Gateway failed to display login dialog" in out
    assert "IBC returned exit status 88" in out and "IBC: Login has completed" in out


def test_default_port_by_mode(tmp_path):
    # Gateway paper without OverrideTwsApiPort listens on 4002
    try:
        socket.create_connection(("127.0.0.1", 4002), timeout=0.2).close()
        pytest.skip("port 4002 in use on this machine")
    except OSError:
        pass
    ini = tmp_path / "config.ini"
    ini.write_text("TradingMode=paper\n")
    proc = _launch(["1019", "-g", f"--ibc-ini={ini}"], tmp_path, {"ibc": {"login_seconds": 0}})
    try:
        _wait_port(4002, True)
        asyncio.run(asyncio.sleep(0))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 143
