"""The core's own config sections (``supervisor``, ``ib``, ``logging``) and their defaults.

The full schema, with the services and every plugin's sections, is assembled by the plugin
host (:func:`traderctl.plugin.sections.build_schema`).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from typing import Any

from traderctl.config.loader import Config, Override, load_config
from traderctl.config.schema import (
    Bool,
    Choice,
    ConfigSection,
    Context,
    Duration,
    Field,
    FilePath,
    Int,
    Invalid,
    Path,
    Port,
    Section,
    Str,
)

DEFAULT_IB_PORT = 7497  # TWS paper; a configured tws service's api_port wins


SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with the terminating NUL
VIRTUAL_FS = ("/proc", "/sys", "/dev")


class SocketPath(FilePath):
    """Where the control socket goes: short enough for ``bind``, not something else."""

    name = "unix socket path"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        text = super().convert(value, path, ctx)
        size = len(os.fsencode(text))
        if size > SUN_PATH_MAX:
            raise Invalid(f"{size} bytes long; a unix socket path has at most {SUN_PATH_MAX}")
        if os.path.isdir(text):
            raise Invalid(f"{text} is a directory; name the socket file inside it")
        if os.path.lexists(text) and not stat.S_ISSOCK(os.lstat(text).st_mode):
            raise Invalid(f"{text} exists and is not a socket")
        return text


class DataDir(FilePath):
    """The supervisor's state directory: a directory (or none yet) on a real filesystem."""

    name = "directory"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        text = super().convert(value, path, ctx)
        real = os.path.realpath(text)
        for top in VIRTUAL_FS:
            if real == top or real.startswith(top + "/"):
                raise Invalid(f"{text} is under {top}, which cannot hold files")
        if os.path.exists(text) and not os.path.isdir(text):
            raise Invalid(f"{text} exists and is not a directory")
        return text


def default_data_dir() -> str:
    if os.geteuid() == 0:
        return "/var/lib/traderctl"
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(base, "traderctl")


def default_socket() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "traderctl", "traderctl.sock")
    return os.path.join(tempfile.gettempdir(), f"traderctl-{os.geteuid()}", "traderctl.sock")


def core_sections() -> list[ConfigSection]:
    supervisor = Section({
        "socket": Field(SocketPath(), default_socket(), "Control socket (unix, mode 0600)."),
        "data_dir": Field(DataDir(), default_data_dir(),
                          "All state: logs, state file, job store, universes, bars."),
        "log_max_bytes": Field(Int(min=1024), 10 * 1024 * 1024,
                               "Per-service log file size before rotation."),
        "log_backups": Field(Int(min=0), 5, "Rotated log files kept per service."),
        "ready_timeout": Field(Duration(), 60.0,
                               "systemd READY=1 once every autostart service runs, or after "
                               "this long (keep it below the unit's TimeoutStartSec)."),
        "cgroups": Field(Bool(), True,
                         "A cgroup per service where the supervisor may create one (systemd "
                         "Delegate=yes, or root); false: process groups and markers only."),
    }, doc="The supervisor daemon.")
    ib = Section({
        "host": Field(Str(), "127.0.0.1", "Where plugins reach TWS / IB Gateway."),
        "port": Field(Port(), DEFAULT_IB_PORT,
                      "TWS API port; defaults to the api_port of a configured tws service."),
        "client_id": Field(Int(min=0), 1, "Client id plugins use."),
    }, doc="Where plugins and checks reach the TWS API.")
    logging = Section({
        "level": Field(Choice("debug", "info", "warning", "error"), "info", "Log level."),
        "format": Field(Choice("auto", "json", "console"), "auto",
                        "auto: JSON lines unless stderr is a terminal."),
    }, doc="Logs go to stderr.")
    return [ConfigSection("supervisor", supervisor), ConfigSection("ib", ib),
            ConfigSection("logging", logging)]


def load_supervisor_section(path: str | None, env: Mapping[str, str],
                            overrides: list[Override]) -> Config:
    """Only ``supervisor.*``: enough to reach the daemon, even while the rest of the file
    is being edited (the daemon keeps running its last good config until a reload)."""
    (section,) = [s for s in core_sections() if s.name == "supervisor"]
    root = Section({"supervisor": section.section}, ignore_unknown=True)
    env = {k: v for k, v in env.items() if not k.startswith("TRADERCTL_")
           or k.startswith("TRADERCTL_SUPERVISOR__") or "__" not in k}
    overrides = [o for o in overrides if o.key.startswith("supervisor.")]
    return load_config(root, path, env, overrides)
