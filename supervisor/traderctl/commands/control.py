"""``traderctl start|stop|restart NAME... [--wait]`` and ``traderctl reload``."""

from __future__ import annotations

from collections.abc import Callable

from traderctl.cli.spec import CommandSpec, Opt
from traderctl.cli.target import Target
from traderctl.commands.remote import call, service_names


def _act(action: str) -> Callable[..., int]:
    def run(target: Target, names: tuple[str, ...], wait: bool, timeout: float) -> int:
        states = call(target, action, names=list(names), wait=wait, timeout=timeout)
        for service, state in states.items():
            print(f"{service}: {state}")
        return 0
    return run


def _action(name: str, doc: str) -> CommandSpec:
    return CommandSpec(name, doc, _act(name), (
        Opt("names", many=True, required=True, metavar="NAMES...", completion=service_names),
        Opt("wait", ("--wait",), bool, False, "Return once the services got there."),
        Opt("timeout", ("--timeout",), float, 60.0, "Seconds to --wait."),
    ))


start = _action("start", "Start services (clears `failed`).")
stop = _action("stop", "Stop services (and keep them stopped).")
restart = _action("restart", "Restart services (clears `failed`).")


def _reload(target: Target) -> int:
    result = call(target, "reload")
    for key in ("added", "removed", "restarted"):
        print(f"{key}: {', '.join(result[key]) or '-'}")
    return 0


reload = CommandSpec("reload", """Apply config changes (same as SIGHUP).

Re-reads the config file and restarts only the services whose spec changed; an invalid
file is refused and the running config stays.""", _reload)
