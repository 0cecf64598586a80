"""Session-aware health on the fake IBC: freezes, the escalation ladder, second factor,
reset windows, data farms and connectivity. One real supervisor runs one tws service per
scenario (they are independent, so they share its start-up time)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.tws.conftest import TwsRig, wait_until


def ts(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


@pytest.fixture(scope="module")
def rig(rig_factory) -> TwsRig:
    rig = rig_factory("faults")
    rig.fake("hang")                      # freeze, warm RESTART heals it
    # freeze survives RESTART: STOP, cold start (TWS: its RESTART is immediate)
    rig.fake("stuck", restart_timeout="1s", gateway=False)
    rig.fake("phone", {"ibc": {"second_factor": True, "second_factor_timeout": 600}},
             startup_timeout="8s", two_factor_device="IB Key")
    # IB's prompt expires after 0.6 s here (180 s for real); IBC logs in again each time
    rig.fake("asleep", {"ibc": {"second_factor": True, "second_factor_timeout": 0.6}},
             second_factor_limit="2.5s")
    now = datetime.now(UTC)
    rig.fake("window", reset_windows=[{
        "name": "test-window", "timezone": "UTC", "start": f"{now - timedelta(minutes=2):%H:%M}",
        "end": f"{now + timedelta(minutes=30):%H:%M}"}])
    rig.fake("farms")
    rig.fake("link")
    rig.start()
    return rig


def remedies(rig: TwsRig, service: str) -> list[dict]:
    return rig.daemons[0].events("tws_remedy", service=service)


def test_freeze_is_detected_in_time_and_a_warm_restart_heals_it(rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("hang", "running", timeout=30)
    time.sleep(0.5)  # a few healthy probes first
    frozen_at = time.time()
    rig.control("hang", "FREEZE")
    unhealthy = wait_until(lambda: d.events(service="hang", to="unhealthy"), 10, "detection")[0]
    # interval x failures + timeout = 0.2 x 2 + 0.5 = 0.9 s (plus scheduling slack)
    assert ts(unhealthy) - frozen_at < 0.9 + 0.8, unhealthy
    restart = wait_until(lambda: remedies(rig, "hang"), 10, "a remedy")[0]
    assert restart["action"] == "RESTART" and restart["ok"], restart
    rig.control("hang", "UNFREEZE")  # the restarted TWS is not hung any more
    wait_until(lambda: d.events(service="hang", to="running", reason="remedied"), 10,
               "recovery")
    after = d.service("hang")
    assert after["pid"] == first["pid"] and after["restarts"] == 0  # warm: no kill, no respawn
    assert [r["action"] for r in remedies(rig, "hang")] == ["RESTART"]
    assert after["tws"]["last_remedy"]["action"] == "RESTART"


def test_a_hang_that_survives_the_warm_restart_escalates_to_stop_and_a_cold_start(
        rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("stuck", "running", timeout=30)
    rig.control("stuck", "FREEZE")
    wait_until(lambda: len(d.events(service="stuck", to="running")) >= 2, 20, "a cold start")
    actions = [r["action"] for r in remedies(rig, "stuck")]
    assert actions[:3] == ["RESTART", "STOP", "cold_start"], actions
    events = d.events(service="stuck")
    tos = [e["to"] for e in events]
    stopping = tos.index("stopping")
    assert tos[stopping - 1] == "unhealthy" and events[stopping]["reason"].startswith("unhealthy")
    after_stop = events[stopping + 1]
    assert after_stop["to"] == "backoff"
    assert after_stop["exit_code"] == 0 and after_stop["signal"] is None  # IBC's STOP did it
    again = d.wait_state("stuck", "running")
    assert again["pid"] != first["pid"] and again["restarts"] == 1


def test_second_factor_pending_holds_still_then_runs_after_approval(rig: TwsRig) -> None:
    d = rig.daemons[0]
    pending = wait_until(lambda: d.events("tws_second_factor_pending", service="phone"), 30,
                         "the prompt")[0]
    assert pending["device"] == "IB Key"
    spawned = d.events(service="phone", to="starting")[0]
    # longer than startup_timeout (8 s, which covers the fake's start on a loaded machine):
    # the deadline stands still while the phone is asked
    wait_until(lambda: time.time() - ts(spawned) > 9.0, 12, "time to pass")
    status = d.service("phone")
    assert status["state"] == "starting" and status["restarts"] == 0
    assert status["detail"] == "second factor pending on IB Key"
    assert status["tws"]["second_factor_pending_since"]
    assert not d.events(service="phone", to="backoff")
    assert not d.events(service="phone", to="stopping")
    (rig.runtime_dir("phone") / "fake-ibc-2fa-approved").touch()  # approve on the phone
    running = d.wait_state("phone", "running", timeout=10)
    assert running["pid"] == spawned["pid"] and running["detail"].startswith("api accepting")
    done = d.events("tws_second_factor_completed", service="phone")
    assert len(done) == 1 and done[0]["waited"] >= 2.0
    # IBC logs the dialog Opened, Activated, Activated, Closed: one prompt, one event; and
    # the closed dialog is not the success, "Login has completed" is
    assert len(d.events("tws_second_factor_pending", service="phone")) == 1
    assert done[0]["how"] == "login completed" and done[0]["prompts"] == 1


def test_the_wait_clock_runs_across_ibcs_relogins_and_the_limit_fires(rig: TwsRig) -> None:
    d = rig.daemons[0]
    failed = d.wait_state("asleep", "failed", timeout=30)
    assert "second factor not approved within 2.5s" in failed["detail"]
    assert failed["restarts"] == 0 and failed["pid"] is None
    pending = d.events("tws_second_factor_pending", service="asleep")
    timeouts = d.events("tws_second_factor_timeout", service="asleep")
    assert len(pending) >= 3 and [p["prompt"] for p in pending] == list(range(1, len(pending) + 1))
    assert len({p["since"] for p in pending}) == 1  # one wait, however many prompts
    assert timeouts and all(t["relogin"] for t in timeouts)
    assert not d.events("tws_second_factor_completed", service="asleep")  # closed != approved
    (abandoned,) = d.events("tws_second_factor_abandoned", service="asleep")
    assert abandoned["waited"] >= 2.5 and abandoned["prompts"] >= 3
    time.sleep(0.5)
    assert len(d.events(service="asleep", to="starting")) == 1  # no retry on its own


def test_inside_a_reset_window_failures_are_reported_not_acted_on(rig: TwsRig) -> None:
    d = rig.daemons[0]
    first = d.wait_state("window", "running", timeout=30)
    assert "in IB reset window test-window until" in first["detail"]
    assert first["tws"]["reset_window"] == "test-window"
    rig.control("window", "FREEZE")
    suppressed = wait_until(lambda: d.events("tws_action_suppressed", service="window"), 10,
                            "a suppressed action")[0]
    assert suppressed["action"] == "RESTART" and suppressed["window"] == "test-window"
    wait_until(lambda: "not acting" in d.service("window")["detail"], 5, "the report")
    assert d.service("window")["state"] == "unhealthy"
    time.sleep(1.5)  # many probe intervals: still nothing done
    assert not remedies(rig, "window")
    rig.control("window", "UNFREEZE")
    back = d.wait_state("window", "running", timeout=10)
    assert back["pid"] == first["pid"] and not remedies(rig, "window")


def test_a_broken_data_farm_gets_reconnectdata(rig: TwsRig) -> None:
    d = rig.daemons[0]
    wait_until(lambda: d.service("farms")["detail"] == "api accepting; data farms ok", 15,
               "farms ok")
    rig.control("farms", "FARM 2103 usfarm")
    wait_until(lambda: d.service("farms")["detail"] == "api accepting; data farm usfarm broken",
               5, "the broken farm in the detail")
    remedy = wait_until(lambda: remedies(rig, "farms"), 5, "RECONNECTDATA")[0]
    assert remedy["action"] == "RECONNECTDATA" and remedy["ok"]
    assert "usfarm" in remedy["reason"]
    assert d.service("farms")["tws"]["farms"]["usfarm"] == "broken"
    rig.control("farms", "FARM 2104 usfarm")
    wait_until(lambda: d.service("farms")["detail"] == "api accepting; data farms ok", 5,
               "farms ok again")
    assert d.service("farms")["state"] == "running"  # a farm never bounces the service
    assert not d.events(service="farms", to="unhealthy")


def test_lost_connectivity_gets_reconnectaccount(rig: TwsRig) -> None:
    d = rig.daemons[0]
    wait_until(lambda: d.service("link")["tws"]["connectivity"] == "ok", 15, "connectivity")
    rig.control("link", "CONNECTIVITY 1100")
    wait_until(lambda: "IB connectivity lost (1100)" in d.service("link")["detail"], 5,
               "lost in the detail")
    remedy = wait_until(lambda: remedies(rig, "link"), 5, "RECONNECTACCOUNT")[0]
    assert remedy["action"] == "RECONNECTACCOUNT" and remedy["ok"]
    # the fake IBC answers RECONNECTACCOUNT with 1100 then 1102 (restored, data maintained)
    wait_until(lambda: d.service("link")["tws"]["connectivity"] == "ok", 5, "restored")
    codes = [e["code"] for e in d.events("tws_connectivity", service="link")]
    assert codes[0] == 1100 and codes[-1] == 1102
