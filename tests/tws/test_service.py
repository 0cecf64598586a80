"""A tws service from spawn to ``running`` on the fake IBC launcher and on the simulator:
the generated ini, IBC's argv, credentials kept out of sight, dependents gated, exit codes."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from tests.conftest import run_traderctl
from tests.tws.conftest import PASSWORD, USERNAME, TwsRig, wait_until
from traderctl.tws.ini import read_ini

FILE_PASSWORD = "file-Pw-51d0c2"
ENV_PASSWORD = "env-Pw-8a33f7"
SECRETS = (PASSWORD, USERNAME, FILE_PASSWORD, ENV_PASSWORD)


def ts(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


@pytest.fixture(scope="module")
def rig(rig_factory) -> TwsRig:
    rig = rig_factory("service")
    rig.fake("tws", auto_restart_time="11:45 PM", cold_restart_time="07:05",
             auto_restart_outage="0s", two_factor_device="IB Key", read_only_api=True)
    rig.add("strategy", {"command": [sys.executable, "-c", "import time; time.sleep(600)"],
                         "depends_on": ["tws"]})
    secret_file = rig.root / "pw"
    secret_file.write_text(FILE_PASSWORD + "\n")
    secret_file.chmod(0o600)
    rig.fake("from_file", password=None, password_file=str(secret_file))
    rig.fake("from_env", password=None, password_env="TWS_TEST_PASSWORD_ENV")
    loose = rig.root / "pw-loose"
    loose.write_text("whatever\n")
    loose.chmod(0o644)
    rig.fake("loose", password=None, password_file=str(loose))
    rig.fake("login_timeout", {"ibc": {"login_dialog_timeouts": 1,
                                       "login_dialog_timeout_seconds": 0.3}})
    [sim_port] = [rig.fake("unused")["api_port"]]
    del rig.services["unused"]
    rig.add("sim", {"type": "tws", "mode": "simulated", "api_port": sim_port,
                    "sim_timezone": "Asia/Hong_Kong", "probe_interval": "200ms",
                    "probe_timeout": "500ms", "reset_windows": []})
    rig.start(env={"TWS_TEST_PASSWORD_ENV": ENV_PASSWORD})
    return rig


def test_normal_start_reaches_running_with_the_session_in_detail_and_status(rig: TwsRig) -> None:
    d = rig.daemons[0]
    up = d.wait_state("tws", "running", timeout=30)
    wait_until(lambda: d.service("tws")["detail"] == "api accepting; data farms ok", 5, "farms")
    details = [e["detail"] for e in d.events(service="tws")]
    assert details[0] == "login"
    tws = d.service("tws")["tws"]
    assert tws["session"] == "api accepting" and tws["api_port"] == rig.api_ports["tws"]
    assert tws["farms"] == {"usfarm": "ok", "ushmds": "ok", "secdefil": "ok"}
    wait_until(lambda: d.service("tws")["tws"]["timezone"], 5, "the time zone")
    tws = d.service("tws")["tws"]
    # the simulator logs in as US/Eastern and says EST/EDT in the handshake
    assert tws["timezone"] == "America/New_York" and tws["reported"] in ("EST", "EDT")
    assert tws["utc_offset"] in ("-05:00", "-04:00") and tws["source"] == "name"
    assert d.events("tws_timezone", service="tws")
    assert up["restarts"] == 0


def test_dependents_start_only_once_the_api_accepts(rig: TwsRig) -> None:
    d = rig.daemons[0]
    d.wait_state("strategy", "running", timeout=30)
    states = d.events(service="strategy")
    assert states[0]["to"] == "waiting" and states[0]["detail"] == "waiting for tws"
    tws_running = d.events(service="tws", to="running")[0]
    assert ts(d.events(service="strategy", to="starting")[0]) >= ts(tws_running)


def test_ibc_gets_its_real_arguments_and_a_0600_ini_with_safe_values(rig: TwsRig) -> None:
    d = rig.daemons[0]
    d.wait_state("tws", "running", timeout=30)
    ini = rig.runtime_dir("tws") / "config.ini"
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600
    assert stat.S_IMODE(ini.parent.stat().st_mode) == 0o700
    assert not [p for p in ini.parent.iterdir() if p.name.startswith(".config.ini.")]
    values = read_ini(str(ini))
    expected = {
        "IbLoginId": USERNAME, "TradingMode": "paper", "FIX": "no",
        "AcceptIncomingConnectionAction": "reject", "ExistingSessionDetectedAction": "primary",
        "ReloginAfterSecondFactorAuthenticationTimeout": "yes",
        "ExitAfterSecondFactorAuthenticationTimeout": "no",
        "AutoRestartTime": "11:45 PM", "ColdRestartTime": "07:05",
        "CommandServerPort": str(rig.services["tws"]["command_server_port"]),
        "ControlFrom": "127.0.0.1", "BindAddress": "127.0.0.1",
        "OverrideTwsApiPort": str(rig.api_ports["tws"]), "SecondFactorDevice": "IB Key",
        "ReadOnlyApi": "yes", "AcceptNonBrokerageAccountWarning": "yes",
        "SecondFactorAuthenticationExitInterval": "60", "AutoLogoffTime": "",
        "AcceptBidAskLastSizeDisplayUpdateNotification": "defer",
    }
    assert {k: values.get(k) for k in expected} == expected
    # java.util.Properties escaping: the backslash doubled, nothing else touched
    assert values["IbPassword"] == PASSWORD.replace("\\", "\\\\")
    documented = {"FIX", "IbLoginId", "IbPassword", "SecondFactorDevice", "TradingMode",
                  "ReloginAfterSecondFactorAuthenticationTimeout", "LoginDialogDisplayTimeout",
                  "ExitAfterSecondFactorAuthenticationTimeout", "MinimizeMainWindow",
                  "AcceptNonBrokerageAccountWarning", "ExistingSessionDetectedAction",
                  "OverrideTwsApiPort", "ReadOnlyApi", "AcceptIncomingConnectionAction",
                  "AutoRestartTime", "ColdRestartTime", "CommandServerPort", "ControlFrom",
                  "BindAddress", "CommandPrompt", "SuppressInfoMessages",
                  "SecondFactorAuthenticationExitInterval", "AutoLogoffTime",
                  "AcceptBidAskLastSizeDisplayUpdateNotification"}
    assert set(values) <= documented
    argv = psutil.Process(d.service("tws")["pid"]).cmdline()
    args = argv[argv.index(next(a for a in argv if a.endswith("fake_ibc_boot.py"))) + 1:]
    (written,) = d.events("tws_ini_written", service="tws")
    assert written["path"] == str(ini) and written["ibc_version"] == "3.24.1"  # ibc/fake/version
    assert d.service("tws")["tws"]["ibc_version"] == "3.24.1"
    # each service its own TWS settings folder: IBC deletes autorestart files in a shared one
    settings = rig.runtime_dir("tws") / "tws-settings"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o700
    assert d.service("tws")["tws"]["tws_settings_path"] == str(settings)
    assert args == ["1030", "--gateway", f"--tws-path={rig.services['tws']['tws_path']}",
                    f"--tws-settings-path={settings}",
                    f"--ibc-path={rig.services['tws']['ibc_path']}", f"--ibc-ini={ini}",
                    "--mode=paper", "--on2fatimeout=restart"]


def test_password_from_a_0600_file_or_the_environment(rig: TwsRig) -> None:
    d = rig.daemons[0]
    d.wait_state("from_file", "running", timeout=30)
    d.wait_state("from_env", "running", timeout=30)
    ini = read_ini(str(rig.runtime_dir("from_file") / "config.ini"))
    assert ini["IbPassword"] == FILE_PASSWORD
    assert read_ini(str(rig.runtime_dir("from_env") / "config.ini"))["IbPassword"] == ENV_PASSWORD
    env = psutil.Process(d.service("from_env")["pid"]).environ()
    assert "TWS_TEST_PASSWORD_ENV" not in env and ENV_PASSWORD not in env.values()


def test_a_password_file_others_can_read_is_refused_without_a_start(rig: TwsRig) -> None:
    d = rig.daemons[0]
    failed = d.wait_state("loose", "failed", timeout=10)
    assert "accessible to group or others (mode 0644)" in failed["detail"]
    assert not d.events(service="loose", to="starting")
    assert not (rig.runtime_dir("loose") / "config.ini").exists()


def test_a_login_dialog_timeout_88_is_looped_by_ibcs_script_not_by_the_runner(
        rig: TwsRig) -> None:
    d = rig.daemons[0]
    up = d.wait_state("login_timeout", "running", timeout=30)
    assert up["restarts"] == 0 and len(d.events(service="login_timeout", to="starting")) == 1
    (returned,) = d.events("tws_ibc_returned", service="login_timeout")
    assert returned["exit_code"] == 88 and "the script starts IBC again" in returned["meaning"]
    assert not d.events("tws_ibc_exit", service="login_timeout")


def test_simulated_mode_runs_the_simulator_through_the_same_path(rig: TwsRig) -> None:
    d = rig.daemons[0]
    up = d.wait_state("sim", "running", timeout=30)
    assert "traderctl.simulator" in psutil.Process(up["pid"]).cmdline()
    wait_until(lambda: d.service("sim")["tws"]["timezone"] == "Asia/Hong_Kong", 5, "zone")
    tws = d.service("sim")["tws"]
    assert tws["reported"] == "HKT" and tws["utc_offset"] == "+08:00"
    assert tws["mode"] == "simulated" and tws["command_server_port"] is None


def test_credentials_are_nowhere_to_be_seen(rig: TwsRig) -> None:
    d = rig.daemons[0]
    for name in ("tws", "from_file", "from_env"):
        d.wait_state(name, "running", timeout=30)
    leaks: list[str] = []
    for proc in psutil.process_iter():  # what `ps` shows, for every process on the machine
        try:
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        leaks += [f"cmdline of {proc.pid}" for s in SECRETS if s in cmdline]
    for path in (rig.root / "data" / "logs").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            leaks += [f"log {path.name}" for s in SECRETS if s in text]
    text = d.stderr()
    leaks += ["supervisor stderr" for s in SECRETS if s in text]
    everything = json.dumps(d.client.call("events", limit=5000)["events"])
    leaks += ["events" for s in SECRETS if s in everything]
    status = json.dumps(d.client.call("status"))
    leaks += ["status" for s in SECRETS if s in status]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    for args in (["config", "show"], ["config", "show", "--json", "--origin"],
                 ["status", "--json"]):
        result = run_traderctl("--config", str(d.config), *args, env=env)
        assert result.returncode in (0, 3), result.stderr
        leaks += [" ".join(args) for s in SECRETS if s in result.stdout + result.stderr]
    assert not leaks
    shown = run_traderctl("--config", str(d.config), "config", "show", "--json", env=env)
    services = json.loads(shown.stdout)["services"]
    assert services["tws"]["password"] == "***" and services["tws"]["username"] == "***"
