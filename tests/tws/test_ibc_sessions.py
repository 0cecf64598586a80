"""What IBC 3.24 does on a real box, played by the fake IBC with IBC's own wording, seen
through a real supervisor: the Security Code Card, a wrong password looping in IBC's
script, the daily auto-restart, the Sunday cold restart (a second factor on a running
service), the IB Gateway's RESTART at the next minute, an acknowledged alert whose login
never finishes (87) and a SIGTERM from outside (143)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import psutil
import pytest

from tests.tws.conftest import TwsRig, wait_until


@pytest.fixture(scope="module")
def rig(rig_factory) -> TwsRig:
    rig = rig_factory("sessions")
    # IB's prompt lasts 180 s; long enough here that no test waits through a re-login
    phone = {"second_factor": True, "second_factor_timeout": 600}
    rig.fake("card", {"ibc": {**phone, "second_factor_method": "card"}},
             two_factor_device="IB Key")
    rig.fake("badpw", {"ibc": {"login_failure": {"kind": "failed"}}})
    rig.fake("loginerr", {"ibc": {"login_failure": {
        "kind": "error", "text": "Invalid username or password."}}})
    rig.fake("daily", {"ibc": {"auto_restart_after": 1.5}})
    rig.fake("cold", {"ibc": {**phone, "cold_restart_after": 1.5}}, two_factor_device="IB Key")
    rig.fake("gwrestart", {"ibc": {"restart_at_most": 60}}, restart_timeout="1s")
    rig.fake("stall", {"ibc": {**phone, "login_stalls": True}}, second_factor_exit_interval="1s",
             on_2fa_timeout="exit", restart="never")
    # the launcher takes a moment to exit after its java: the exit, not liveness, must end it
    rig.fake("sigterm", probe_failures=25)
    rig.start()
    return rig


def approve(rig: TwsRig, name: str, done: Callable[[], object], prompt: int = 1) -> None:
    """Approve on the "phone" until ``done``: touched again and again, since the fake
    removes the file when a prompt opens."""
    d = rig.daemons[0]
    wait_until(lambda: len(d.events("tws_second_factor_pending", service=name)) >= prompt, 60,
               f"prompt {prompt} of {name}")
    deadline = time.monotonic() + 45
    while not done():
        assert time.monotonic() < deadline, f"{name}: the approval never took"
        (rig.runtime_dir(name) / "fake-ibc-2fa-approved").touch()
        time.sleep(0.2)


def test_a_security_code_card_is_named_and_waited_for(rig: TwsRig) -> None:
    d = rig.daemons[0]
    wait_until(lambda: d.events("tws_second_factor_pending", service="card"), 30, "the prompt")
    status = d.service("card")
    assert status["detail"] == "second factor pending (Security Code Card)"
    (pending,) = d.events("tws_second_factor_pending", service="card")
    assert pending["method"] == "Security Code Card Authentication"
    approve(rig, "card", lambda: d.service("card")["state"] == "running")
    assert d.wait_state("card", "running", timeout=30)["restarts"] == 0


@pytest.mark.parametrize(("name", "reason"), [
    ("badpw", "IB login failed (wrong user name or password?)"),
    ("loginerr", "IB login error: Invalid username or password."),
])
def test_a_failed_login_stops_ibc_and_parks_the_service(rig: TwsRig, name: str,
                                                        reason: str) -> None:
    d = rig.daemons[0]
    failed = d.wait_state(name, "failed", timeout=40)
    assert failed["detail"] == f"{reason}; waiting for an operator"
    assert failed["pid"] is None and failed["tws"]["login_failed"] == reason
    (event,) = d.events("tws_login_failed", service=name)
    assert event["reason"] == reason
    (spawn,) = d.events(service=name, to="starting")  # traderctl did not retry either
    assert not psutil.pid_exists(spawn["pid"]) or psutil.Process(spawn["pid"]).status() == "zombie"
    time.sleep(1.0)  # IBC's loop would have tried again within 0.2 s: nothing more happens
    assert len(d.events("tws_login_failed", service=name)) == 1
    assert d.service(name)["state"] == "failed"


def test_the_daily_auto_restart_is_an_expected_outage_with_no_action(rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("daily", "running", timeout=40)
    (restart,) = wait_until(lambda: d.events("tws_ibc_restart", service="daily"), 30,
                            "IBC's restart")
    assert restart["kind"] == "warm" and restart["line"] == "IBC: Re-starting session"
    wait_until(lambda: d.service("daily")["tws"]["session"] == "api accepting", 30, "the API")
    after = d.service("daily")
    assert after["state"] == "running" and after["pid"] == first["pid"]
    assert after["restarts"] == 0 and after["tws"]["ibc_restart"] is None
    assert not d.events(service="daily", to="unhealthy")
    assert not d.events("tws_remedy", service="daily")
    assert not d.events("tws_second_factor_pending", service="daily")  # warm: no phone


def test_a_cold_restart_asks_for_the_phone_while_running_and_counts_no_failure(
        rig: TwsRig) -> None:
    d = rig.daemons[0]
    approve(rig, "cold", lambda: d.service("cold")["state"] == "running")
    first = d.wait_state("cold", "running", timeout=40)
    assert first["tws"]["cold_restart_at"]  # "Gateway will be cold restarted at ..."
    (restart,) = wait_until(lambda: d.events("tws_ibc_restart", service="cold"), 30,
                            "the cold restart")
    assert restart["kind"] == "cold"
    wait_until(lambda: len(d.events("tws_second_factor_pending", service="cold")) == 2, 30,
               "the second prompt")
    # many liveness periods (0.2 s, 2 failures act) with the API refusing: none counted
    time.sleep(2.0)
    status = d.service("cold")
    assert status["state"] == "running" and status["pid"] == first["pid"]
    assert status["detail"].startswith("second factor pending on IB Key")
    assert not d.events(service="cold", to="unhealthy")
    assert not d.events("tws_remedy", service="cold")
    approve(rig, "cold", lambda: d.service("cold")["tws"]["session"] == "api accepting",
            prompt=2)
    wait_until(lambda: d.service("cold")["tws"]["session"] == "api accepting", 30, "the API")
    assert d.service("cold")["pid"] == first["pid"]
    assert len(d.events("tws_second_factor_completed", service="cold")) == 2


def test_an_ib_gateway_restart_is_waited_for_until_the_minute_ibc_names(rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("gwrestart", "running", timeout=40)
    rig.control("gwrestart", "FREEZE")
    (remedy,) = wait_until(lambda: d.events("tws_remedy", service="gwrestart"), 30, "RESTART")
    assert remedy["action"] == "RESTART" and "RESTART at " in remedy["reply"]
    # longer than restart_timeout (1 s): the Gateway restarts at the next minute
    time.sleep(2.0)
    assert "warm RESTART sent, waiting up to" in d.service("gwrestart")["detail"]
    rig.control("gwrestart", "UNFREEZE")
    wait_until(lambda: d.events(service="gwrestart", to="running", reason="remedied"), 30,
               "healed in place")
    assert [r["action"] for r in d.events("tws_remedy", service="gwrestart")] == ["RESTART"]
    assert d.service("gwrestart")["pid"] == first["pid"]


def test_87_means_acknowledged_but_the_login_did_not_finish(rig: TwsRig) -> None:
    d = rig.daemons[0]
    approve(rig, "stall", lambda: "acknowledged" in d.service("stall")["detail"]
            or d.service("stall")["state"] == "stopped")
    stopped = d.wait_state("stall", "stopped", timeout=40)
    assert stopped["detail"].startswith("exited with code 87: IBC: second factor acknowledged "
                                        "but login not completed within "
                                        "SecondFactorAuthenticationExitInterval")
    (event,) = d.events("tws_ibc_exit", service="stall")
    assert event["exit_code"] == 87 and not event["permanent"]


def test_a_sigterm_from_outside_is_143_and_the_service_comes_back(rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("sigterm", "running", timeout=40)
    os.kill(first["pid"], signal.SIGTERM)
    (event,) = wait_until(lambda: d.events("tws_ibc_exit", service="sigterm"), 30, "the exit")
    assert event["exit_code"] == 143 and event["meaning"] == "terminated by SIGTERM"
    again = wait_until(lambda: d.events(service="sigterm", to="running")[1:], 30, "a restart")
    assert again[0]["pid"] != first["pid"]
