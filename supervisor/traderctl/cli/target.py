"""Where the running supervisor is: its socket and data_dir, even while the file is broken.

The daemon keeps running its last good config while the operator edits the file, so the
commands that talk to it must not depend on the file parsing. ``supervise`` records its
socket and data_dir per config file (``<state dir>/sockets/<hash>.json``) with the file's
size and mtime. The socket is then, in order:

1. ``--socket``, ``--set supervisor.socket=`` or ``TRADERCTL_SUPERVISOR__SOCKET``;
2. the record, while the file is unchanged since ``supervise`` read it and the socket
   exists (no YAML parsed: this is what keeps ``status`` fast);
3. ``supervisor.*`` read from the file;
4. when the file cannot be read: the record, else the default socket, with a warning that
   says the file on disk is broken.
"""

from __future__ import annotations

import json
import os
import stat
import sys

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from traderctl.config import Config, Override


SOCKET_ENV = "TRADERCTL_SUPERVISOR__SOCKET"
CONFIG_ENV = "TRADERCTL_CONFIG"
DEFAULT_LOCATIONS = ("configs/trader.yaml", "/etc/traderctl/trader.yaml")


class Flag:
    """A ``--set``/``--socket`` value before the config machinery is imported (becomes a
    ``config.Override`` if the file has to be read)."""

    def __init__(self, key: str, text: str, origin: str) -> None:
        self.key, self.text, self.origin = key, text, origin


def config_file(explicit: str | None, env: Mapping[str, str]) -> str | None:
    """The file the loader reads (as ``config.loader.find_config_file``, without importing
    the config machinery; tests/commands/test_target.py keeps the two in step)."""
    if explicit or env.get(CONFIG_ENV):
        return explicit or env[CONFIG_ENV]
    return next((c for c in DEFAULT_LOCATIONS if os.path.exists(c)), None)


def _fingerprint(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def record_dir() -> str:
    """``$XDG_STATE_HOME/traderctl/sockets`` when set (for root too), else under the
    default data_dir (``~/.local/state/traderctl``, root: ``/var/lib/traderctl``; as
    ``config.sections.default_data_dir``, without importing the config machinery)."""
    if state := os.environ.get("XDG_STATE_HOME"):
        return os.path.join(state, "traderctl", "sockets")
    if os.geteuid() == 0:
        return "/var/lib/traderctl/sockets"
    return os.path.join(os.path.expanduser("~/.local/state"), "traderctl", "sockets")


def record_path(config_file: str) -> str:
    """One file per config file, named after its absolute path (readable, no hashing)."""
    name = os.path.abspath(config_file).replace("%", "%25").replace("/", "%2F")
    if len(name) > 200:
        import hashlib

        name = hashlib.sha256(name.encode()).hexdigest()
    return os.path.join(record_dir(), f"{name}.json")


def record_last_good(config: Config) -> None:
    """Called by ``supervise`` once its config is valid; best effort (the record is a help
    for the operator, never a reason not to supervise)."""
    if not config.source:
        return
    data = {"config": os.path.abspath(config.source), "socket": config.get("supervisor.socket"),
            "data_dir": config.get("supervisor.data_dir"),
            "file": _fingerprint(config.source)}
    path = record_path(config.source)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass


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
                 overrides: Sequence[Flag | Override]) -> None:
        self.config_path = config_path
        self.env = env
        self.overrides = overrides
        self.broken = False  # the file on disk has problems; set once the section was read
        self._section: dict[str, Any] | None = None

    @property
    def section(self) -> dict[str, Any]:
        """``supervisor.*`` as far as known (see the module docstring for the order)."""
        if self._section is None:
            self._section = self._find()
        return self._section

    def _find(self) -> dict[str, Any]:
        file = config_file(self.config_path, self.env)
        record = read_last_good(file) if file else {}
        explicit = self._explicit_socket()
        if explicit is None and file and _current(record, file):
            return {"socket": record["socket"], "data_dir": record.get("data_dir")}
        from traderctl.config import ConfigError, Override
        from traderctl.config.sections import default_socket, load_supervisor_section

        overrides = [Override(o.key, o.text, o.origin) for o in self.overrides]
        try:
            config = load_supervisor_section(self.config_path, self.env, overrides)
            return dict(config.section("supervisor"))
        except ConfigError as exc:
            self.broken = True
            socket = explicit or record.get("socket") or default_socket()
            _warn_broken(exc, socket, record)
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


def _current(record: dict[str, Any], file: str) -> bool:
    """The record describes the file as it is now, and its socket is there."""
    if not record.get("socket") or record.get("file") != _fingerprint(file):
        return False
    try:
        return stat.S_ISSOCK(os.stat(record["socket"]).st_mode)
    except OSError:
        return False


def _warn_broken(exc: Exception, socket: str, record: dict[str, Any]) -> None:
    problems = getattr(exc, "problems", [exc])
    print(f"warning: the config file on disk is broken ({len(problems)} problem"
          f"{'s' * (len(problems) != 1)}); a running supervisor keeps its last good config",
          file=sys.stderr)
    for problem in problems[:5]:
        print(f"  {problem}", file=sys.stderr)
    where = "its last recorded socket" if record.get("socket") == socket else "socket"
    print(f"  talking to {where} {socket}", file=sys.stderr)
