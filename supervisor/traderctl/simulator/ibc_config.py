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

E_NO_JAVA = 1
E_NO_TWS_VERSION = 2
E_INVALID_ARG = 3
E_IBC_PATH_NOT_EXIST = 5
E_IBC_INI_NOT_EXIST = 6
E_2FA_DIALOG_TIMED_OUT = 1111 % 256  # 87
E_LOGIN_DIALOG_DISPLAY_TIMEOUT = 1112 % 256  # 88

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
