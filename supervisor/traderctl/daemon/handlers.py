"""What the control socket can be asked: one coroutine per request, arguments checked first.

Every handler declares its arguments (type, default, bounds); :func:`dispatch` checks a
request against them before anything happens, so ``{"timeout": "abc"}`` is an error reply
and never a started service followed by a dropped connection.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traderctl import __version__
from traderctl.daemon.control import Peer, RequestError
from traderctl.events import Event

if TYPE_CHECKING:
    from traderctl.daemon.supervisor import Supervisor
    from traderctl.services.runner import ServiceRunner

HandlerFunc = Callable[["Supervisor", dict[str, Any]], Coroutine[Any, Any, Any]]
MAX_NAME = 200
MAX_LIST = 1000


@dataclass(frozen=True)
class Arg:
    """One request argument: ``kind`` is bool, int, float, str, list (of str) or dict."""

    kind: type
    default: Any
    low: float | None = None
    high: float | None = None

    def check(self, key: str, value: Any) -> Any:
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.kind) or (self.kind is int and isinstance(value, bool)):
            raise RequestError(f"{key} must be {_KIND_NAMES[self.kind]}, "
                               f"got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise RequestError(f"{key} must be a finite number")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if (self.low is not None and value < self.low) or (
                    self.high is not None and value > self.high):
                raise RequestError(f"{key} must be between {self.low:g} and {self.high:g}")
        if isinstance(value, list):
            if len(value) > MAX_LIST or not all(
                    isinstance(v, str) and 0 < len(v) <= MAX_NAME for v in value):
                raise RequestError(f"{key} must be a list of names")
        if isinstance(value, str) and len(value) > MAX_NAME:
            raise RequestError(f"{key} is too long")
        if isinstance(value, dict) and len(value) > MAX_LIST:
            raise RequestError(f"{key} has too many keys")
        return value


_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list of names", dict: "a mapping"}


@dataclass(frozen=True)
class Handler:
    func: HandlerFunc
    args: dict[str, Arg]
    read_only: bool

    def parse(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(self.args)
        if unknown:
            raise RequestError("unknown argument(s): " + ", ".join(sorted(unknown)))
        return {key: arg.check(key, given[key]) if key in given and given[key] is not None
                else arg.default for key, arg in self.args.items()}


HANDLERS: dict[str, Handler] = {}
NAMES = Arg(list, [])
WAIT = {"names": NAMES, "wait": Arg(bool, False), "timeout": Arg(float, 60.0, 0, 86400)}


def command(cmd: str, args: dict[str, Arg] | None = None, read_only: bool = False
            ) -> Callable[[HandlerFunc], HandlerFunc]:
    def register(func: HandlerFunc) -> HandlerFunc:
        HANDLERS[cmd] = Handler(func, args or {}, read_only)
        return func
    return register


async def dispatch(sup: Supervisor, request: dict[str, Any], peer: Peer) -> Any:
    """Check the request, record it (unless it only reads), run its handler."""
    cmd = request["cmd"]
    handler = HANDLERS.get(cmd)
    if handler is None:
        raise RequestError(f"unknown command {cmd[:MAX_NAME]!r}")
    args = handler.parse(request["args"])
    if not handler.read_only:
        sup.emit(Event("control_request", {"cmd": cmd, "args": args, "uid": peer.uid,
                                            "pid": peer.pid}))
    return await handler.func(sup, args)


def runner(sup: Supervisor, name: str) -> ServiceRunner:
    if name not in sup.runners:
        close = difflib.get_close_matches(name, list(sup.runners), n=3)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise RequestError(f"no such service: {name}{hint}")
    return sup.runners[name]


def _names(sup: Supervisor, args: dict[str, Any], default_all: bool = True) -> list[str]:
    names = args["names"] or (list(sup.runners) if default_all else [])
    for name in names:
        runner(sup, name)
    return list(dict.fromkeys(names))


def should_run(r: ServiceRunner) -> bool:
    """Whether ``status`` counts this service as down when it is not running: not a job
    left stopped by design (``autostart: false``) nor one that finished cleanly under its
    restart policy (a ``restart: never`` oneshot that exited 0)."""
    if r.want_up:
        return True
    if not r.spec["autostart"]:
        return False
    last = r.last_exit or {}
    finished = r.spec["restart"] != "always" and last.get("exit_code") == 0
    return not (r.state == "stopped" and finished)


@command("ping", read_only=True)
async def ping(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"version": __version__, "pid": os.getpid(), "uptime": time.time() - sup.started_at}


@command("status", {"names": NAMES}, read_only=True)
async def status(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"supervisor": {"pid": os.getpid(), "version": __version__,
                           "uptime": time.time() - sup.started_at,
                           "config": sup.config.source, "summary": sup.summary(),
                           "disk": sup.disk.status()},
            "services": [{**sup.runners[n].status(), "should_run": should_run(sup.runners[n])}
                         for n in _names(sup, args)]}


async def _act(sup: Supervisor, args: dict[str, Any], action: str, target: set[str]
               ) -> dict[str, Any]:
    names = _names(sup, args, default_all=False)
    if not names:
        raise RequestError("name at least one service")
    sub = sup.bus.subscribe(lambda e: e.name == "service_state" and e.fields["service"] in names)
    try:
        for name in names:
            getattr(sup.runners[name], action)("operator")
        if args["wait"]:
            await _wait_for(sup, sub, names, target, args["timeout"], action)
    finally:
        sub.close()
    return {n: sup.runners[n].state for n in names if n in sup.runners}


async def _wait_for(sup: Supervisor, sub: Any, names: list[str], target: set[str],
                    timeout: float, action: str) -> None:
    pending = set(names)
    if action != "restart":
        pending = {n for n in names if sup.runners[n].state not in target}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            event: Event | None = await asyncio.wait_for(sub.get(), max(remaining, 0.001))
        except TimeoutError:
            raise RequestError(f"timed out after {timeout:g}s waiting for "
                               + ", ".join(sorted(pending))) from None
        if event is None:
            raise RequestError("event stream overflowed while waiting")
        name, state = event.fields["service"], event.fields["to"]
        if name in pending and state in target:
            pending.discard(name)
        elif name in pending and state == "failed":
            raise RequestError(f"{name} failed: {event.fields['detail']}")


@command("start", WAIT)
async def start(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "start", {"running"})


@command("stop", WAIT)
async def stop(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "stop", {"stopped"})


@command("restart", WAIT)
async def restart(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "restart", {"running"})


@command("reload")
async def reload(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await sup.reload("control")


@command("graph", read_only=True)
async def graph(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"services": [{"name": r.name, "state": r.state, "detail": r.detail,
                          "depends_on": r.spec["depends_on"]} for r in sup.runners.values()]}


@command("logs", {"name": Arg(str, None), "lines": Arg(int, 50, 0, 100_000),
                  "follow": Arg(bool, False)}, read_only=True)
async def logs(sup: Supervisor, args: dict[str, Any]) -> Any:
    name = args["name"]
    if name is None:
        raise RequestError("logs needs a service name")
    runner(sup, name)
    lines = args["lines"]
    tail = sup.logs.get(name).tail(lines) if lines > 0 else []
    if not args["follow"]:
        return {"lines": tail}
    live = sup.bus.stream(lambda e: e.name == "service_output" and e.fields["service"] == name)
    return _chain([{"event": "log_line", "text": line} for line in tail], live)


@command("events", {"events": NAMES, "limit": Arg(int, 100, 0, 100_000),
                    "follow": Arg(bool, False)}, read_only=True)
async def events(sup: Supervisor, args: dict[str, Any]) -> Any:
    wanted = set(args["events"])
    accept = (lambda e: e.name in wanted) if wanted else (lambda e: True)
    history = sup.bus.history(accept, args["limit"])
    if not args["follow"]:
        return {"events": history}
    return _chain(history, sup.bus.stream(accept))


async def _chain(first: list[dict[str, Any]], live: Any) -> Any:
    """History, then live events; closing the stream closes the subscription too."""
    try:
        for item in first:
            yield item
        async for event in live:
            yield event
    finally:
        await live.aclose()


@command("publish", {"event": Arg(str, ""), "fields": Arg(dict, {})})
async def publish(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    """A client's audit record onto the event stream (``traderctl events`` shows it).

    Only ``audit_*`` names, so a client cannot forge the supervisor's own events; the
    ``control_request`` event emitted before this one carries the peer's verified uid/pid.
    """
    name = args["event"]
    if not name.startswith("audit_") or not name.isidentifier():
        raise RequestError("event must be an audit_* name")
    event = Event(name, args["fields"])
    sup.emit(event)
    return {"event": name, "ts": event.ts.isoformat()}
