"""Where the running supervisor is: its socket and data_dir, even while the file is broken.

The daemon keeps running its last good config while the operator edits the file, so the
commands that talk to it must not depend on the file parsing. ``supervise`` records its
socket and data_dir per config file (``<state dir>/sockets/<hash>.json``); when the file on
disk cannot be read, the commands say so and use, in order: ``--socket`` or
``TRADERCTL_SUPERVISOR__SOCKET``, that record, the default socket.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traderctl.config import Config, Override

SOCKET_ENV = "TRADERCTL_SUPERVISOR__SOCKET"


def record_dir() -> str:
    """``$XDG_STATE_HOME/traderctl/sockets`` when set (for root too), else the default
    data_dir's (``~/.local/state/traderctl``, root: ``/var/lib/traderctl``)."""
    from traderctl.config.sections import default_data_dir

    if state := os.environ.get("XDG_STATE_HOME"):
        return os.path.join(state, "traderctl", "sockets")
    return os.path.join(default_data_dir(), "sockets")


def record_path(config_file: str) -> str:
    digest = hashlib.sha256(os.path.abspath(config_file).encode()).hexdigest()[:20]
    return os.path.join(record_dir(), f"{digest}.json")


def record_last_good(config: Config) -> None:
    """Called by ``supervise`` once its config is valid; best effort (the record is a help
    for the operator, never a reason not to supervise)."""
    if not config.source:
        return
    data = {"config": os.path.abspath(config.source), "socket": config.get("supervisor.socket"),
            "data_dir": config.get("supervisor.data_dir")}
    path = record_path(config.source)
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)


def read_last_good(config_file: str) -> dict[str, Any]:
    try:
        with open(record_path(config_file)) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Target:
    """The supervisor a daemon command talks to (built from the global options)."""

    def __init__(self, config_path: str | None, env: Mapping[str, str],
                 overrides: list[Override]) -> None:
        self.config_path = config_path
        self.env = env
        self.overrides = overrides
        self.broken = False  # the file on disk has problems; set once the section was read

    @cached_property
    def section(self) -> dict[str, Any]:
        """``supervisor.*`` from the file, or from the fallbacks when the file is broken."""
        from traderctl.config import ConfigError
        from traderctl.config.loader import find_config_file
        from traderctl.config.sections import default_socket, load_supervisor_section

        try:
            config = load_supervisor_section(self.config_path, self.env, self.overrides)
            return dict(config.section("supervisor"))
        except ConfigError as exc:
            self.broken = True
            file, _ = find_config_file(self.config_path, self.env)
            record = read_last_good(file) if file else {}
            socket = self._explicit_socket() or record.get("socket") or default_socket()
            _warn_broken(file, exc, socket, record)
            return {"socket": socket, "data_dir": record.get("data_dir")}

    def _explicit_socket(self) -> str | None:
        for override in reversed(self.overrides):
            if override.key == "supervisor.socket":
                return override.text
        return self.env.get(SOCKET_ENV) or None

    @property
    def socket(self) -> str:
        return str(self.section["socket"])

    @property
    def data_dir(self) -> str | None:
        value = self.section.get("data_dir")
        return str(value) if value else None


def _warn_broken(file: str | None, exc: Exception, socket: str, record: dict[str, Any]) -> None:
    problems = getattr(exc, "problems", [exc])
    print(f"warning: the config file on disk is broken ({len(problems)} problem"
          f"{'s' * (len(problems) != 1)}); a running supervisor keeps its last good config",
          file=sys.stderr)
    for problem in problems[:5]:
        print(f"  {problem}", file=sys.stderr)
    where = "its last recorded socket" if record.get("socket") == socket else "socket"
    print(f"  talking to {where} {socket}", file=sys.stderr)
