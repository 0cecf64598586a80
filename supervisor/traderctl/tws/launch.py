"""Launching IBC: the rendered ``config.ini``, ``ibcstart.sh``'s argv, the password.

Credentials go into the 0600 ini only: never argv (``ps`` shows it), never the
child's environment. ``mode: simulated`` runs traderctl's TWS simulator instead.
Each service has its own TWS settings folder by default
(``<data_dir>/services/<name>/tws-settings``): IBC deletes every ``autorestart``
file it finds in a shared one, which turns the daily warm restart into a full
login with a second factor.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from traderctl.logs import add_secrets, get_logger
from traderctl.services.driver import Launch
from traderctl.services.environment import child_environment
from traderctl.tws.ibcversion import installed_version
from traderctl.tws.ini import default_template, render_file
from traderctl.tws.outages import ConfigProblem
from traderctl.tws.servicetype import (
    DEFAULT_IBC_PATH,
    DEFAULT_TWS_PATH,
    TwsSpec,
    api_port,
    ibc_ampm,
)

HOST = "127.0.0.1"
log = get_logger(__name__)


@dataclass
class IbcLaunch:
    """Builds the launch of one tws service; ``prepare`` writes the ini every start."""

    spec: TwsSpec
    name: str
    runtime_dir: str
    version: str | None = None  # of the installed IBC, from its version file

    @property
    def mode(self) -> str:
        return str(self.spec["mode"])

    @property
    def port(self) -> int:
        return api_port(self.spec)

    @property
    def command_port(self) -> int:
        return 0 if self.mode == "simulated" else int(self.spec["command_server_port"] or 0)

    @property
    def ini_path(self) -> str:
        return os.path.join(self.runtime_dir, "config.ini")

    def paths(self) -> tuple[str, str, str]:
        """IBC's folder, TWS's folder and the TWS settings folder of this service."""
        ibc = self.spec["ibc_path"] or DEFAULT_IBC_PATH
        tws = self.spec["tws_path"] or os.path.expanduser(DEFAULT_TWS_PATH)
        settings = self.spec["tws_settings_path"] or os.path.join(self.runtime_dir,
                                                                  "tws-settings")
        return ibc, tws, settings

    def prepare(self) -> Launch:
        env = child_environment(self.spec["env"])
        if self.spec["display"]:
            env["DISPLAY"] = self.spec["display"]
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        if self.mode == "simulated":
            return Launch(self.simulator_argv(), env, self.runtime_dir)
        password = self.password()
        self.write_ini(password)
        os.makedirs(self.paths()[2], mode=0o700, exist_ok=True)
        self.version = installed_version(self.paths()[0])
        if self.version:  # what IBC's own launcher scripts export for ibcstart.sh's banner
            env["IBC_VRSN"] = self.version
        self._warn_about_restarts()
        # the password reaches IBC only through the 0600 ini: not inherited either
        if self.spec["password_env"]:
            env.pop(self.spec["password_env"], None)
        env = {k: v for k, v in env.items() if v != password}
        return Launch(self.ibc_argv(), env, self.runtime_dir)

    def _warn_about_restarts(self) -> None:
        spec = self.spec
        if not spec["auto_restart_time"] and not spec["auto_logoff_time"]:
            log.warning("tws_daily_restart_unset", service=self.name,
                        hint="neither auto_restart_time nor auto_logoff_time: TWS keeps its "
                             "own Lock and Exit time, which traderctl does not know and does "
                             "not treat as an expected outage")
        if spec["cold_restart_time"] and self.version is None:
            log.warning("tws_ibc_version_unknown", service=self.name,
                        hint="no version file in the IBC folder; ColdRestartTime needs IBC "
                             "3.19 or later")

    def simulator_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "traderctl.simulator", "--host", HOST,
                "--port", str(self.port)]
        if self.spec["sim_scenario"]:
            argv += ["--scenario", self.spec["sim_scenario"]]
        if self.spec["sim_control_port"] is not None:
            argv += ["--control-port", str(self.spec["sim_control_port"])]
        if self.spec["sim_timezone"]:
            argv += ["--timezone", self.spec["sim_timezone"]]
        return argv

    def ibc_argv(self) -> list[str]:
        """``ibcstart.sh`` with IBC's real arguments; ``--user``/``--pw`` are never used."""
        spec = self.spec
        if not spec["tws_version"]:
            raise ConfigProblem(f"tws_version is required for mode {self.mode}")
        ibc, tws, settings = self.paths()
        argv = [os.path.join(ibc, "scripts", "ibcstart.sh"), spec["tws_version"]]
        if spec["gateway"]:
            argv.append("--gateway")
        argv += [f"--tws-path={tws}", f"--tws-settings-path={settings}", f"--ibc-path={ibc}",
                 f"--ibc-ini={self.ini_path}", f"--mode={self.mode}",
                 f"--on2fatimeout={spec['on_2fa_timeout']}"]
        if spec["java_path"]:
            argv.append(f"--java-path={spec['java_path']}")
        return argv

    def password(self) -> str:
        spec = self.spec
        given = [k for k in ("password", "password_file", "password_env") if spec[k]]
        if len(given) > 1:
            raise ConfigProblem(f"set only one of {', '.join(given)}")
        if not spec["username"]:
            raise ConfigProblem(f"username is required for mode {self.mode}")
        if not given:
            raise ConfigProblem("no password: set password_file, password_env or password")
        if spec["password"]:
            value = str(spec["password"])
        elif spec["password_file"]:
            value = read_password_file(spec["password_file"])
        else:
            value = os.environ.get(spec["password_env"] or "", "")  # set: the only source left
            if not value:
                raise ConfigProblem(f"environment variable {spec['password_env']} "
                                    "(password_env) is not set or empty")
        add_secrets([value, spec["username"]])
        return value

    def ini_values(self, password: str) -> dict[str, str]:
        spec = self.spec
        read_only = spec["read_only_api"]
        restart, logoff = spec["auto_restart_time"], spec["auto_logoff_time"]
        return {
            "service": self.name,
            "IbLoginId": spec["username"] or "",  # required: password() came first
            "IbPassword": password,
            "SecondFactorDevice": spec["two_factor_device"] or "",
            "SecondFactorAuthenticationExitInterval":
                str(round(spec["second_factor_exit_interval"])),
            "TradingMode": self.mode,
            "AcceptNonBrokerageAccountWarning": "yes" if self.mode == "paper" else "no",
            "ExistingSessionDetectedAction": spec["existing_session"],
            "OverrideTwsApiPort": str(self.port),
            "ReadOnlyApi": "" if read_only is None else ("yes" if read_only else "no"),
            "AcceptBidAskLastSizeDisplayUpdateNotification": spec["bid_ask_last_size_dialog"],
            # IBC keeps one of the two; both empty leaves TWS's own Lock and Exit setting
            "AutoRestartTime": ibc_ampm(restart) if restart else "",
            "AutoLogoffTime": ibc_ampm(logoff) if logoff and not restart else "",
            "ColdRestartTime": spec["cold_restart_time"] or "",
            "CommandServerPort": str(self.command_port),
        }

    def write_ini(self, password: str) -> None:
        render_file(self.spec["ibc_ini_template"] or default_template(),
                    self.ini_values(password), self.ini_path)


def read_password_file(path: str) -> str:
    """The first line of a file only its owner can read; ConfigProblem otherwise."""
    try:
        st = os.stat(path)
        if st.st_mode & 0o077:
            raise ConfigProblem(f"password_file {path} is accessible to group or others "
                                f"(mode {st.st_mode & 0o777:04o}); chmod 600 it")
        if st.st_uid != os.geteuid():
            raise ConfigProblem(f"password_file {path} is not owned by this user")
        with open(path, encoding="utf-8") as fh:
            value = fh.readline().rstrip("\r\n")
    except OSError as exc:
        raise ConfigProblem(f"cannot read password_file {path}: {exc.strerror}") from None
    if not value:
        raise ConfigProblem(f"password_file {path} is empty")
    return value
