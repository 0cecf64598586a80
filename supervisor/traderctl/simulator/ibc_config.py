"""Arguments and config.ini of the fake IBC launcher, validated like IBC does.

``ibcstart.sh`` checks (exit codes from IBC's script): no TWS major version
-> 2 (E_NO_TWS_VERSION); unknown ``-x`` argument, a second positional,
``--mode`` other than live/paper, ``--on2fatimeout`` other than
restart/exit, FIX credentials without ``--gateway`` -> 3 (E_INVALID_ARG);
``--tws-settings-path`` or ``--ibc-path`` that does not exist -> 5
(E_IBC_PATH_NOT_EXIST); missing (or unreadable) ini -> 6
(E_IBC_INI_NOT_EXIST); ``--java-path`` without a ``java`` in it -> 1
(E_NO_JAVA). Unlike the real script, the fake does not need a TWS install,
so ``--tws-path`` is only logged and unset paths are not checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E_NO_JAVA = 1
E_NO_TWS_VERSION = 2
E_INVALID_ARG = 3
E_IBC_PATH_NOT_EXIST = 5
E_IBC_INI_NOT_EXIST = 6
E_2FA_DIALOG_TIMED_OUT = 1111 % 256  # 87
E_LOGIN_DIALOG_DISPLAY_TIMEOUT = 1112 % 256  # 88
E_SIGTERM = 128 + 15  # java killed by the TERM the script forwards

USAGE = """Runs IBC, thus loading TWS or the IB Gateway  (fake: runs the traderctl simulator)

Usage:

ibcstart twsVersion [-g | --gateway] [--tws-path=twsPath]
             [--tws-settings-path=twsSettingsPath] [--ibc-path=ibcPath]
             [--ibc-ini=ibcIni] [--java-path=javaPath]
             [--user=userid] [--pw=password]
             [--fix-user=fixuserid] [--fix-pw=fixpassword]
             [--mode=tradingMode]
             [--on2fatimeout=2fatimeoutaction]
"""

_OPTIONS = {
    "--tws-path=": "tws_path",
    "--tws-settings-path=": "tws_settings_path",
    "--ibc-path=": "ibc_path",
    "--ibc-ini=": "ibc_ini",
    "--java-path=": "java_path",
    "--user=": "user",
    "--pw=": "pw",
    "--fix-user=": "fix_user",
    "--fix-pw=": "fix_pw",
    "--mode=": "mode",
    "--on2fatimeout=": "on2fatimeout",
}


class LaunchError(Exception):
    """Argument or environment problem; carries IBC's exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class LaunchArgs:
    tws_version: str = ""
    gateway: bool = False
    tws_path: str = ""
    tws_settings_path: str = ""
    ibc_path: str = ""
    ibc_ini: str = ""
    java_path: str = ""
    user: str = ""
    pw: str = ""
    fix_user: str = ""
    fix_pw: str = ""
    mode: str = ""
    on2fatimeout: str = ""


def parse_args(argv: list[str]) -> LaunchArgs:
    """Parse ibcstart.sh's arguments (case-insensitive prefixes, like the script)."""
    args = LaunchArgs()
    for arg in argv:
        low = arg.lower()
        if low in ("-g", "--gateway"):
            args.gateway = True
            continue
        for prefix, name in _OPTIONS.items():
            if low.startswith(prefix):
                setattr(args, name, arg[len(prefix) :])
                break
        else:
            if arg.startswith("-") or args.tws_version:
                raise LaunchError(E_INVALID_ARG, f"Invalid parameter '{arg}'")
            args.tws_version = arg
    return args


def validate(args: LaunchArgs) -> None:
    if (args.fix_user or args.fix_pw) and not args.gateway:
        raise LaunchError(
            E_INVALID_ARG, "FIX user id and FIX password are only valid for the Gateway"
        )
    if args.mode and args.mode.lower() not in ("live", "paper"):
        raise LaunchError(
            E_INVALID_ARG,
            f"Trading mode set to {args.mode} but must be either 'live' or "
            "'paper' (case-insensitive)",
        )
    if args.on2fatimeout and args.on2fatimeout.lower() not in ("restart", "exit"):
        raise LaunchError(
            E_INVALID_ARG,
            f"2FA timeout action set to {args.on2fatimeout} but must be either "
            "'restart' or 'exit' (case-insensitive)",
        )
    if not args.tws_version:
        raise LaunchError(E_NO_TWS_VERSION, "TWS major version number has not been supplied")
    if args.tws_settings_path and not Path(args.tws_settings_path).exists():
        raise LaunchError(
            E_IBC_PATH_NOT_EXIST, f"TWS settings path: {args.tws_settings_path} does not exist"
        )
    if args.ibc_path and not Path(args.ibc_path).exists():
        raise LaunchError(E_IBC_PATH_NOT_EXIST, f"IBC path: {args.ibc_path} does not exist")
    ini = Path(args.ibc_ini or Path.home() / "ibc" / "config.ini")
    if not ini.is_file() or not os.access(ini, os.R_OK):
        raise LaunchError(E_IBC_INI_NOT_EXIST, f"IBC configuration file: {ini}  does not exist")
    if args.java_path and not (Path(args.java_path) / "java").exists():
        raise LaunchError(E_NO_JAVA, f"Java installaton at {args.java_path}/java does not exist")


@dataclass
class IbcIni:
    """The config.ini keys the fake honours."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> IbcIni:
        values: dict[str, str] = {}
        for raw in Path(path).read_text(encoding="latin-1").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";", "[")) or "=" not in line:
                continue
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
        return cls(values)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, "") or default

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key).lower()
        return default if not value else value in ("yes", "true", "1")

    def number(self, key: str, default: float) -> float:
        try:
            return float(self.get(key)) if self.get(key) else default
        except ValueError:
            return default


def trading_mode(args: LaunchArgs, ini: IbcIni) -> str:
    return (args.mode or ini.get("TradingMode", "live")).lower()


def api_port(args: LaunchArgs, ini: IbcIni) -> int:
    """OverrideTwsApiPort, else TWS 7496/7497 or Gateway 4001/4002 by mode."""
    override = ini.get("OverrideTwsApiPort")
    if override:
        return int(override)
    paper = trading_mode(args, ini) == "paper"
    if args.gateway:
        return 4002 if paper else 4001
    return 7497 if paper else 7496


@dataclass
class IbcPlan:
    """The ``ibc:`` scenario section merged with config.ini (see :mod:`.fake_ibc`)."""

    login_seconds: float = 0.5
    second_factor: bool = False
    second_factor_method: str = "mobile"  # or "card": Security Code Card Authentication
    second_factor_timeout: float = 180.0
    exit_interval: float = 60.0
    approve_file: Path = Path("fake-ibc-2fa-approved")
    login_stalls: bool = False  # after approval the login never completes (exit 87)
    relogin_delay: float = 5.0
    relogin: bool = False
    login_dialog_timeouts: int = 0
    login_dialog_timeout_seconds: float = 60.0
    login_failure: str = ""  # failed | error | locked
    login_failure_times: int = 1_000_000
    login_error_text: str = "Invalid username or password."
    restart_seconds: float = 1.0
    script_restart_delay: float = 2.0
    restart_at_most: float | None = None  # Gateway RESTART: at most this long to the minute
    auto_restart_after: float | None = None
    cold_restart_after: float | None = None
    exit_after: dict[str, Any] | None = None
    control_port: int | None = None
    api_host: str = "127.0.0.1"

    @classmethod
    def build(cls, raw: dict[str, Any], ini: IbcIni, ini_path: Path) -> IbcPlan:
        env_ctl = os.environ.get("FAKE_IBC_CONTROL_PORT")
        ctl = raw.get("control_port", int(env_ctl) if env_ctl else None)
        failure = raw.get("login_failure") or {}
        optional = {k: None if raw.get(k) is None else float(raw[k])
                    for k in ("restart_at_most", "auto_restart_after", "cold_restart_after")}
        return cls(
            login_seconds=float(raw.get("login_seconds", 0.5)),
            second_factor=bool(raw.get("second_factor", False)),
            second_factor_method=str(raw.get("second_factor_method", "mobile")),
            second_factor_timeout=float(raw.get(
                "second_factor_timeout", ini.number("SecondFactorAuthenticationTimeout", 180))),
            exit_interval=float(raw.get(
                "exit_interval", ini.number("SecondFactorAuthenticationExitInterval", 60))),
            approve_file=Path(raw.get("approve_file") or ini_path.parent / "fake-ibc-2fa-approved"),
            login_stalls=bool(raw.get("login_stalls", False)),
            relogin_delay=float(raw.get("relogin_delay", 5.0)),
            relogin=relogin_permitted(ini),
            login_dialog_timeouts=int(raw.get("login_dialog_timeouts", 0)),
            login_dialog_timeout_seconds=float(
                raw.get("login_dialog_timeout_seconds", ini.number("LoginDialogDisplayTimeout", 60))
            ),
            login_failure=str(failure.get("kind", "")),
            login_failure_times=int(failure.get("times", 1_000_000)),
            login_error_text=str(failure.get("text", "Invalid username or password.")),
            restart_seconds=float(raw.get("restart_seconds", 1.0)),
            script_restart_delay=float(raw.get("script_restart_delay", 2.0)),
            exit_after=raw.get("exit_after"),
            control_port=None if ctl is None else int(ctl),
            api_host=str(raw.get("api_host") or os.environ.get("FAKE_IBC_API_HOST") or "127.0.0.1"),
            **optional,
        )


def relogin_permitted(ini: IbcIni) -> bool:
    """IBC's LoginManager.reloginPermitted(): the new key, else the deprecated one."""
    if ini.get("ReloginAfterSecondFactorAuthenticationTimeout"):
        return ini.flag("ReloginAfterSecondFactorAuthenticationTimeout")
    return ini.flag("ExitAfterSecondFactorAuthenticationTimeout")
