"""IBC's output lines as IBC 3.24.1 prints them, and what the login tracker makes of them.

Every line below is built from the source file named next to it (IbcAlpha/IBC at 3.24.1);
``TS`` is the prefix of ``Utils.logToConsole``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest

from traderctl.tws.commandserver import Reply
from traderctl.tws.ibclines import EXIT_CODES, classify, sources
from traderctl.tws.ibcversion import (
    cold_restart_problem,
    earliest_cold_restart,
    installed_version,
    validate,
)
from traderctl.tws.login import ACCEPTING, SECOND_FACTOR, LoginTracker
from traderctl.tws.remedies import Remedies

TS = "2026-12-01 22:33:13:256 IBC: "

LINES = [
    # LoginManager.java
    (TS + "Second Factor Authentication initiated", "second_factor_pending", {}),
    (TS + "Re-login after second factor authentication timeout in 5 second",
     "second_factor_timeout", {"n": "5"}),
    (TS + "Re-login after second factor authentication timeout not required",
     "second_factor_timeout", {}),
    (TS + "If login has not completed, IBC will exit in 60 seconds",
     "second_factor_acknowledged", {"n": "60"}),
    (TS + "Duration since login: 183 seconds", "second_factor_duration", {"n": "183"}),
    (TS + "Login has completed", "logged_in", {}),
    # TwsListener.java
    (TS + "detected dialog entitled: Second Factor Authentication; event=Activated",
     "dialog_second_factor", {"title": "Second Factor Authentication", "event": "Activated"}),
    (TS + "detected frame entitled: Security Code Card Authentication; event=Opened",
     "dialog_second_factor",
     {"title": "Security Code Card Authentication", "event": "Opened"}),
    # LoginFailedDialogHandler.java, LoginErrorDialogHandler.java,
    # TooManyFailedLoginAttemptsDialogHandler.java
    (TS + "Login failed", "login_failed", {}),
    (TS + "Login error message:", "login_error", {}),
    (TS + "Too many failed login attempts. Please wait 53 seconds before attempting to "
          "re-login again.", "login_locked", {}),
    # SessionManager.java
    (TS + "Starting session: will exit if login dialog is not displayed within 60 seconds",
     "session_cold", {}),
    (TS + "Re-starting session", "session_restart", {}),
    # IbcTws.java
    (TS + "Gateway will be cold restarted at 2026/12/06 07:05", "cold_restart_at",
     {"at": "2026/12/06 07:05"}),
    # resources/scripts/ibcstart.sh: no prefix
    ("IBC returned exit status 143", "ibc_exit", {"n": "143"}),
    ("autorestart file found at /home/t/Jts/abcdefgh/autorestart: authentication will not "
     "be required", "autorestart_found", {}),
    ("IBC will cold-restart shortly", "cold_restart_soon", {}),
    ("Starting IBC version 3.24.1 on 2026-12-01 at 22:33:13", "ibc_version",
     {"version": "3.24.1"}),
]


@pytest.mark.parametrize(("line", "kind", "fields"), LINES)
def test_ibc_lines_from_ibc_source(line: str, kind: str, fields: dict[str, str]) -> None:
    found = classify(line)
    assert found is not None and found.kind == kind
    assert {k: v for k, v in found.fields.items() if k in fields} == fields
    assert found.source == sources()[kind]


@pytest.mark.parametrize("line", [
    TS + "detected dialog entitled: Second Factor Authentication; event=Closed",  # both ways
    TS + "detected dialog entitled: Login failed; event=Opened",  # the next line tells
    TS + "Login has not completed: exiting immediately",
    "IBC will restart shortly",
    "some unrelated java noise",
])
def test_lines_that_decide_nothing(line: str) -> None:
    found = classify(line)
    assert found is None or found.kind == "dialog_second_factor"


def test_exit_codes_cover_the_script_and_ibcs_java_codes() -> None:
    assert set(EXIT_CODES) == {1, *range(2, 9), *range(76, 88), 143}
    assert "SecondFactorAuthenticationExitInterval" in EXIT_CODES[87]
    assert "INVALID_SETTING_VALUE" in EXIT_CODES[81] and "INVALID_STATE" in EXIT_CODES[86]
    assert 88 not in EXIT_CODES  # ibcstart.sh loops on 88, it never exits with it


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, **fields: Any) -> None:
        self.seen.append((name, fields))

    def names(self) -> list[str]:
        return [n for n, _ in self.seen]


def feed(tracker: LoginTracker, *lines: str) -> None:
    for line in lines:
        tracker.feed(classify(line), line)


PROMPT = [TS + "detected dialog entitled: Second Factor Authentication; event=Opened",
          TS + "Second Factor Authentication initiated",
          TS + "detected dialog entitled: Second Factor Authentication; event=Activated",
          TS + "detected dialog entitled: Second Factor Authentication; event=Activated"]
CLOSED = TS + "detected dialog entitled: Second Factor Authentication; event=Closed"


def test_an_approved_prompt_counts_once_and_completes_on_login_not_on_close() -> None:
    events = Events()
    tracker = LoginTracker(events, "IB Key", 1800.0)
    feed(tracker, *PROMPT)
    assert events.names() == ["tws_second_factor_pending"] and tracker.phase == SECOND_FACTOR
    feed(tracker, CLOSED, TS + "Duration since login: 20 seconds",
         TS + "If login has not completed, IBC will exit in 60 seconds")
    assert tracker.waiting() and "tws_second_factor_completed" not in events.names()
    assert tracker.detail() == ("second factor pending on IB Key; acknowledged, IBC waits 60s "
                                "for the login")
    feed(tracker, TS + "Login has completed")
    assert events.names()[-1] == "tws_second_factor_completed" and not tracker.waiting()
    tracker.api_accepting()
    assert tracker.phase == ACCEPTING


def test_a_timed_out_prompt_keeps_the_clock_running_across_relogins_until_the_limit() -> None:
    events = Events()
    tracker = LoginTracker(events, None, 0.3)
    feed(tracker, *PROMPT, CLOSED, TS + "Duration since login: 183 seconds",
         TS + "Re-login after second factor authentication timeout in 5 second")
    since = tracker.since
    assert "tws_second_factor_completed" not in events.names()  # a closed dialog is no success
    assert tracker.detail().endswith("prompt 1 timed out, IBC logs in again")
    feed(tracker, TS + "Login attempt: 2", *PROMPT)
    assert tracker.since == since and tracker.prompts == 2
    time.sleep(0.35)
    assert tracker.give_up() == "second factor not approved within 0.3s"
    assert events.names().count("tws_second_factor_abandoned") == 1
    assert not tracker.waiting()


def test_security_code_card_is_told_apart() -> None:
    tracker = LoginTracker(Events(), "IB Key", 1800.0)
    feed(tracker, TS + "detected dialog entitled: Security Code Card Authentication; "
                       "event=Opened", TS + "Second Factor Authentication initiated")
    assert tracker.detail() == "second factor pending (Security Code Card)"


@pytest.mark.parametrize(("lines", "reason"), [
    ([TS + "Login failed", TS + "Cold restart in progress"],
     "IB login failed (wrong user name or password?)"),
    ([TS + "Login error message:", "Invalid username or password for edemo.",
      TS + "Cold restart in progress"], "IB login error: Invalid username or password for ***."),
    ([TS + "Too many failed login attempts. Please wait 4 minutes & 47 seconds before "
           "attempting to re-login again."],
     "IB login refused: Too many failed login attempts. Please wait 4 minutes & 47 seconds "
     "before attempting to re-login again."),
])
def test_login_failures_give_up_with_the_reason_and_no_secret(lines: list[str],
                                                              reason: str) -> None:
    events = Events()
    tracker = LoginTracker(events, None, 1800.0, lambda: ["edemo"])
    feed(tracker, *lines)
    assert tracker.give_up() == reason
    assert events.seen == [("tws_login_failed", {"reason": reason})]


def test_cold_restart_time_must_be_after_1am_eastern_on_sunday() -> None:
    today = date(2026, 12, 1)
    assert cold_restart_problem("07:05", "Europe/London", today) is None
    assert cold_restart_problem("07:05", "America/New_York", today) is None
    problem = cold_restart_problem("07:05", "Asia/Hong_Kong", today)
    assert problem and "Sat 18:05 US/Eastern" in problem
    assert "set 17:05 or later" in cold_restart_problem("13:00", "Australia/Sydney", today)
    assert cold_restart_problem("17:05", "Australia/Sydney", today) is None
    assert earliest_cold_restart("Asia/Hong_Kong", today) == "14:05"
    # London is 5 hours ahead of New York most of the year, 4 in a few weeks of spring/autumn
    assert cold_restart_problem("05:45", "Europe/London", today)


def test_validate_reports_each_problem(tmp_path) -> None:
    old = tmp_path / "ibc"
    old.mkdir()
    (old / "version").write_text("3.18.0")
    assert installed_version(str(old)) == "3.18.0"
    assert installed_version(str(tmp_path / "none")) is None
    found: list[tuple[str, str]] = []
    validate({"mode": "live", "cold_restart_time": "13:00", "ibc_path": str(old),
              "auto_restart_time": "23:45", "auto_logoff_time": "23:00"},
             lambda key, msg: found.append((key, msg)))
    assert [k for k, _ in found] == ["auto_logoff_time", "cold_restart_time"]
    assert "IBC 3.19 or later" in found[1][1] and "3.18.0" in found[1][1]
    found.clear()
    validate({"mode": "simulated", "cold_restart_time": "13:00", "ibc_path": str(old)},
             lambda key, msg: found.append((key, msg)))
    assert not found


def test_a_gateway_restart_waits_for_the_minute_ibc_names() -> None:
    remedies = Remedies({"restart_timeout": 10.0}, "gw", 1, Events(), lambda: False,
                        lambda: False, lambda: None, lambda _: None)
    now = datetime(2026, 12, 1, 22, 41, 30, tzinfo=UTC).astimezone()
    at = f"{now.replace(minute=42, second=0):%I:%M %p}"
    reply = Reply(True, "RESTART in progress", (f"RESTART at {at}",))
    assert remedies.restart_allowance(reply, True, now) == pytest.approx(40.0)
    assert remedies.restart_allowance(reply, False, now) == 10.0
    assert remedies.restart_allowance(Reply(True, "RESTART in progress"), True, now) == 130.0
    assert re.fullmatch(r"\d\d:\d\d [AP]M", at)
