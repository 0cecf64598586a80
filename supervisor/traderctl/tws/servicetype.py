"""The ``tws`` service type: its keys, their defaults, and the API port it serves.

Defaults follow IB and IBC: API ports TWS 7496 (live) / 7497 (paper), IB
Gateway 4001 / 4002; IBC's command server on 7462; IBC in ``/opt/ibc`` and
TWS in ``~/Jts``. The probe defaults (a probe every 2 s, 3 failures in a row,
2 s timeout) detect a hung API within 2 x 3 + 2 = 8 s. Keep ``probe_timeout``
at or below ``probe_interval``: failing probes never overlap, so a longer
timeout stretches every failure to the timeout and the bound no longer holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from traderctl.config.schema import (
    REQUIRED,
    Bool,
    Choice,
    Context,
    Duration,
    Field,
    FilePath,
    Int,
    Invalid,
    ListOf,
    Path,
    Port,
    Section,
    Str,
    TimeZone,
)
from traderctl.services.spec import ServiceSpec
from traderctl.services.types import ServiceType
from traderctl.tws.windows import REGIONS

MODES = ("live", "paper", "simulated")
TWS_PORTS = {"live": 7496, "paper": 7497}
GATEWAY_PORTS = {"live": 4001, "paper": 4002}
DEFAULT_COMMAND_SERVER_PORT = 7462
DEFAULT_IBC_PATH = "/opt/ibc"
DEFAULT_TWS_PATH = "~/Jts"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_AMPM = re.compile(r"(0?[1-9]|1[0-2]):([0-5]\d)\s*([AaPp])[Mm]")
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ClockTime(Str):
    """A time of day: ``23:45`` or IBC's ``11:45 PM``; kept as ``HH:MM`` (24 h); ``""`` = off."""

    name = "time of day (HH:MM or hh:mm AM/PM), or empty for none"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        text = super().convert(value, path, ctx).strip()
        if not text:
            return ""
        if match := _HHMM.fullmatch(text):
            return f"{int(match.group(1)):02d}:{match.group(2)}"
        if match := _AMPM.fullmatch(text):
            hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0)
            return f"{hour:02d}:{match.group(2)}"
        raise Invalid(f"expected a time like 23:45 or 11:45 PM, got {text!r}")


def ibc_ampm(hhmm: str) -> str:
    """``23:45`` -> ``11:45 PM`` (IBC's AutoRestartTime format)."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    return f"{(hour % 12) or 12:02d}:{minute:02d} {'PM' if hour >= 12 else 'AM'}"



def window_type() -> Section:
    return Section({
        "name": Field(Str(), None, "Shown in details and events."),
        "timezone": Field(TimeZone(), "America/New_York", "Zone of start and end."),
        "start": Field(Str(r"([01]?\d|2[0-3]):[0-5]\d", "HH:MM"), REQUIRED, "Local start, HH:MM."),
        "end": Field(Str(r"([01]?\d|2[0-3]):[0-5]\d", "HH:MM"), REQUIRED,
                     "Local end, HH:MM (at or before start: the next day)."),
        "days": Field(ListOf(Choice(*DAY_NAMES), allow_string=True), list(DAY_NAMES),
                      "Weekdays on which the window starts."),
        "region": Field(Choice(*REGIONS), "all", "IB server region the window resets."),
    }, name="reset window")


def _install_fields() -> dict[str, Field]:
    """Where TWS and IBC are, and the ports."""
    return {
        "mode": Field(Choice(*MODES), "paper",
                      "live or paper through IBC; simulated runs traderctl's TWS simulator."),
        "gateway": Field(Bool(), False, "IB Gateway instead of TWS."),
        "tws_version": Field(Str(r"\d{3,4}", "a TWS major version like 1030"), None,
                             "TWS/Gateway major version (IBC's first argument); required "
                             "unless simulated."),
        "tws_path": Field(FilePath(), None,
                          f"Where TWS is installed (default {DEFAULT_TWS_PATH})."),
        "tws_settings_path": Field(FilePath(), None,
                                   "TWS settings directory (default: its own, "
                                   "<data_dir>/services/<name>/tws-settings; IBC deletes "
                                   "every autorestart file in a shared one)."),
        "ibc_path": Field(FilePath(), None, f"IBC's directory (default {DEFAULT_IBC_PATH})."),
        "ibc_ini_template": Field(FilePath(), None,
                                  "Template of IBC's config.ini "
                                  "(default: the one shipped in traderctl/tws/)."),
        "java_path": Field(FilePath(), None,
                           "Directory holding the java binary (IBC --java-path)."),
        "api_port": Field(Port(), None,
                          "TWS API port (default TWS 7496/7497, Gateway 4001/4002 live/paper)."),
        "command_server_port": Field(Int(min=0, max=65535), DEFAULT_COMMAND_SERVER_PORT,
                                     "IBC command server port on 127.0.0.1 (0: off, no soft "
                                     "remedies)."),
    }


def _login_fields() -> dict[str, Field]:
    """Credentials, the second factor and the daily and weekly restarts."""
    return {
        "username": Field(Str(), None, "IB login id (written to the 0600 ini only).", secret=True),
        "password": Field(Str(), None, "IB password; prefer password_file or password_env.",
                          secret=True),
        "password_file": Field(FilePath(), None,
                               "File holding the password; must not be readable by others (0600)."),
        "password_env": Field(Str(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name"),
                              None, "Environment variable of the supervisor holding the password."),
        "two_factor_device": Field(Str(), None, "IBC SecondFactorDevice (name as in the dialog)."),
        "second_factor_limit": Field(Duration(min=1.0), 1800.0,
                                     "Give up (state failed) after waiting this long for a "
                                     "second factor."),
        "second_factor_exit_interval": Field(
            Duration(min=1.0), 60.0, "IBC SecondFactorAuthenticationExitInterval: after the "
            "alert is acknowledged, IBC exits (code 87) if the login has not completed."),
        "on_2fa_timeout": Field(Choice("restart", "exit"), "restart",
                                "IBC --on2fatimeout: after exit 87 its script restarts IBC "
                                "or exits."),
        "auto_restart_time": Field(ClockTime(), "23:45",
                                   "IBC AutoRestartTime: daily TWS restart without second "
                                   "factor (TWS time zone); an expected outage. Empty and no "
                                   "auto_logoff_time: TWS keeps its own setting."),
        "auto_logoff_time": Field(ClockTime(), "",
                                  "IBC AutoLogoffTime: TWS shuts down daily instead "
                                  "(the next start is a full login); excludes "
                                  "auto_restart_time."),
        "bid_ask_last_size_dialog": Field(
            Choice("accept", "defer", "ignore"), "defer",
            "IBC AcceptBidAskLastSizeDisplayUpdateNotification: the dialog blocks market "
            "data until answered (defer: answer it every login)."),
        "auto_restart_outage": Field(Duration(), 300.0,
                                     "How long after auto_restart_time the API may be away."),
        "cold_restart_time": Field(ClockTime(), "07:05",
                                   "Sunday full login (IBC ColdRestartTime, local time, after "
                                   "01:00 US/Eastern: checked at load; needs IBC 3.19); "
                                   "empty: none."),
        "existing_session": Field(Choice("manual", "primary", "primaryoverride", "secondary"),
                                  "primary", "IBC ExistingSessionDetectedAction."),
        "read_only_api": Field(Bool(), None, "IBC ReadOnlyApi (unset: leave TWS's setting)."),
        "display": Field(Str(), None, "X display for TWS (e.g. :99 from an Xvfb service)."),
    }


def _health_fields() -> dict[str, Field]:
    """Probes, remedies and their timings."""
    return {
        "probe_interval": Field(Duration(min=0.05), 2.0, "Liveness probe every so often."),
        "probe_timeout": Field(Duration(min=0.05), 2.0,
                               "One probe's time limit (keep it <= probe_interval)."),
        "probe_failures": Field(Int(min=1), 3, "Consecutive failures before acting."),
        "probe_client_id": Field(Int(min=0), 9900, "Reserved API client id of the probe."),
        "observer_client_id": Field(Int(min=0), 9901,
                                    "Reserved API client id of the farm/connectivity observer."),
        "startup_timeout": Field(Duration(min=0.1), 300.0,
                                 "Spawn to API accepting (second-factor waits not counted)."),
        "restart_timeout": Field(Duration(min=0.1), 120.0,
                                 "How long a warm RESTART may take before stopping TWS."),
        "warm_restart_every": Field(Duration(), 900.0,
                                    "At most one warm RESTART this often; a hang sooner "
                                    "after one stops TWS."),
        "farm_grace": Field(Duration(min=0.05), 30.0,
                            "A farm broken / connectivity lost this long gets "
                            "RECONNECTDATA / RECONNECTACCOUNT."),
        "soft_attempts": Field(Int(min=0), 3, "RECONNECTDATA/RECONNECTACCOUNT tries per incident."),
        "stop_grace": Field(Duration(), 20.0, "After IBC's STOP, wait this long before signals."),
    }


def _window_fields() -> dict[str, Field]:
    """Expected outages and the simulated mode."""
    return {
        "reset_windows_file": Field(FilePath(), None,
                                    "IB reset windows (default: reset-windows.yaml next to "
                                    "the config, in /etc/traderctl, else the shipped one)."),
        "reset_windows": Field(ListOf(window_type()), None,
                               "Reset windows inline; replaces the file ([] = none)."),
        "reset_regions": Field(ListOf(Choice(*REGIONS[:-1]), allow_string=True), [],
                               "Only the windows of these IB server regions ([] = all)."),
        "sim_scenario": Field(FilePath(), None, "mode simulated: simulator scenario file."),
        "sim_control_port": Field(Int(min=0, max=65535), None,
                                  "mode simulated: simulator control port on 127.0.0.1."),
        "sim_timezone": Field(TimeZone(), None, "mode simulated: the simulated TWS time zone."),
    }


def tws_fields() -> dict[str, Field]:
    return {**_install_fields(), **_login_fields(), **_health_fields(), **_window_fields()}


class TwsSpec(ServiceSpec):
    """A ``tws`` service as the config layer builds it: the base keys and :func:`tws_fields`
    (a test keeps the two lists equal)."""

    mode: str
    gateway: bool
    tws_version: str | None
    tws_path: str | None
    tws_settings_path: str | None
    ibc_path: str | None
    ibc_ini_template: str | None
    java_path: str | None
    api_port: int | None
    command_server_port: int
    username: str | None
    password: str | None
    password_file: str | None
    password_env: str | None
    two_factor_device: str | None
    second_factor_limit: float
    second_factor_exit_interval: float
    on_2fa_timeout: str
    auto_restart_time: str
    auto_logoff_time: str
    bid_ask_last_size_dialog: str
    auto_restart_outage: float
    cold_restart_time: str
    existing_session: str
    read_only_api: bool | None
    display: str | None
    probe_interval: float
    probe_timeout: float
    probe_failures: int
    probe_client_id: int
    observer_client_id: int
    startup_timeout: float
    restart_timeout: float
    warm_restart_every: float
    farm_grace: float
    soft_attempts: int
    stop_grace: float
    reset_windows_file: str | None
    reset_windows: list[dict[str, Any]] | None
    reset_regions: list[str]
    sim_scenario: str | None
    sim_control_port: int | None
    sim_timezone: str | None


def api_port(spec: Mapping[str, Any]) -> int:
    """The API port a tws spec serves: ``api_port``, else IB's default for mode and product."""
    if spec.get("api_port"):
        return int(spec["api_port"])
    mode = "live" if spec.get("mode") == "live" else "paper"
    return (GATEWAY_PORTS if spec.get("gateway") else TWS_PORTS)[mode]


PASSWORD_SOURCES = ("password", "password_file", "password_env")
INI_TEXT_KEYS = ("username", "password", "two_factor_device")  # one ini line each


def check_spec(spec: dict[str, Any], report: Callable[[str, str], None]) -> None:
    """Rules across keys, checked at load (the driver checks again when it starts)."""
    given = [k for k in PASSWORD_SOURCES if spec.get(k)]
    if len(given) > 1:
        report(given[1], f"set only one of {', '.join(given)}")
    for key in INI_TEXT_KEYS:
        if isinstance(spec.get(key), str) and ("\n" in spec[key] or "\r" in spec[key]):
            report(key, "must be one line (no newline)")


def make_driver(runner: Any) -> Any:
    from traderctl.tws.driver import TwsDriver

    return TwsDriver(runner)


def validate(spec: dict[str, Any], report: Callable[[str, str], None]) -> None:
    """Load-time rules: across keys here, IBC's own (version, cold restart) in ibcversion."""
    from traderctl.tws.ibcversion import validate as ibc_rules

    check_spec(spec, report)
    ibc_rules(spec, report)


def tws_service_type() -> ServiceType:
    return ServiceType(
        "tws", tws_fields(),
        doc="TWS or IB Gateway through IBC (or the simulator), with session-aware health.",
        needs_command=False, driver=make_driver, api_port=api_port, validate=validate)
