"""The ``traderctl`` console script: daemon commands straight to the socket, the rest to click.

``status``, ``start``, ``stop``, ``restart``, ``reload``, ``logs``, ``events`` and ``graph``
only talk to the running supervisor, and ``jobs list`` only reads the job store. Loading
the plugin host (entry points, pluggy) and click to do that costs more than the request
itself, so their common forms are parsed here (:func:`traderctl.cli.spec.parse_fast`) and
run with the stdlib alone. Anything else (``--help``, a plugin's command, an option this
parser does not know, shell completion) goes to the full command line in
:mod:`traderctl.cli.main`, which builds the same commands from the same
:class:`~traderctl.cli.spec.CommandSpec`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from traderctl.cli.spec import CommandSpec
    from traderctl.cli.target import Flag


DAEMON_COMMANDS = {
    "status": "traderctl.commands.status:status",
    "start": "traderctl.commands.control:start",
    "stop": "traderctl.commands.control:stop",
    "restart": "traderctl.commands.control:restart",
    "reload": "traderctl.commands.control:reload",
    "logs": "traderctl.commands.logs:logs",
    "events": "traderctl.commands.logs:events",
    "graph": "traderctl.commands.graph:graph",
}
# subcommands of click groups that are read in a loop: the group stays a click group
SUBCOMMANDS = {
    ("jobs", "list"): "traderctl.commands.jobs_list:list_jobs",
}
GLOBAL_OPTIONS = {"--config", "--set", "-o", "--socket", "--log-level", "--log-format"}
COMPLETE_ENV = "_TRADERCTL_COMPLETE"


def load_spec(name: str) -> CommandSpec:
    return _import_spec(DAEMON_COMMANDS[name])


def _import_spec(target: str) -> CommandSpec:
    module, _, attr = target.partition(":")
    __import__(module)  # importlib's import_module would cost an import of its own
    spec: CommandSpec = getattr(sys.modules[module], attr)
    return spec


def run_fast(argv: list[str], env: Mapping[str, str]) -> int | None:
    """The exit code of a daemon command run directly, or None to use the full CLI."""
    if COMPLETE_ENV in env:
        return None
    options: dict[str, list[str]] = {}
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        flag, eq, value = rest.pop(0).partition("=")
        if flag not in GLOBAL_OPTIONS or (not eq and not rest):
            return None
        options.setdefault(flag, []).append(value if eq else rest.pop(0))
    if rest and rest[0] in DAEMON_COMMANDS:
        spec, args = load_spec(rest[0]), rest[1:]
    elif tuple(rest[:2]) in SUBCOMMANDS:
        spec, args = _import_spec(SUBCOMMANDS[rest[0], rest[1]]), rest[2:]
    else:
        return None
    from traderctl.cli.spec import parse_fast

    kwargs = parse_fast(spec, args)
    overrides = _overrides(options)
    if kwargs is None or overrides is None:
        return None
    from traderctl.cli.target import Target

    config = options.get("--config", [None])[-1]
    return spec.run(Target(config, env, overrides), **kwargs) or 0


def _overrides(options: dict[str, list[str]]) -> list[Flag] | None:
    from traderctl.cli.target import Flag

    found = []
    for value in options.get("--socket", []):
        found.append(Flag("supervisor.socket", value, "flag:--socket"))
    for item in options.get("--set", []) + options.get("-o", []):
        key, sep, value = item.partition("=")
        if not sep:
            return None  # click explains the mistake
        found.append(Flag(key.strip(), value, "flag:--set"))
    return found


def main() -> None:
    argv = sys.argv[1:]
    try:
        code = run_fast(argv, os.environ)
    except BrokenPipeError:  # `traderctl events | head`: stop quietly, like `cat`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        code = 130
    if code is not None:
        sys.exit(code)
    from traderctl.cli.main import main as full

    full(argv)
