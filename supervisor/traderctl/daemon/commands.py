"""What the control socket can be asked, one coroutine per command."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from traderctl import __version__
from traderctl.daemon.control import RequestError
from traderctl.events import Event

if TYPE_CHECKING:
    from traderctl.daemon.supervisor import Supervisor

Handler = Callable[["Supervisor", dict[str, Any]], Coroutine[Any, Any, Any]]
HANDLERS: dict[str, Handler] = {}
READ_ONLY = {"ping", "status", "logs", "events", "graph"}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func
    return register


def _names(sup: Supervisor, args: dict[str, Any], default_all: bool = True) -> list[str]:
    names = args.get("names") or (list(sup.runners) if default_all else [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RequestError("names must be a list of service names")
    for name in names:
        sup.runner(name)
    return names


@command("ping")
async def ping(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"version": __version__, "pid": os.getpid(), "uptime": time.time() - sup.started_at}


@command("status")
async def status(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"supervisor": {"pid": os.getpid(), "version": __version__,
                           "uptime": time.time() - sup.started_at,
                           "config": sup.config.source, "summary": sup.summary()},
            "services": [sup.runners[n].status() for n in _names(sup, args)]}


async def _act(sup: Supervisor, args: dict[str, Any], action: str, target: set[str]
               ) -> dict[str, Any]:
    names = _names(sup, args, default_all=False)
    if not names:
        raise RequestError("name at least one service")
    sub = sup.bus.subscribe(lambda e: e.name == "service_state" and e.fields["service"] in names)
    try:
        for name in names:
            getattr(sup.runner(name), action)("operator")
        if args.get("wait"):
            await _wait_for(sup, sub, names, target, float(args.get("timeout", 60)), action)
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


@command("start")
async def start(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "start", {"running"})


@command("stop")
async def stop(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "stop", {"stopped"})


@command("restart")
async def restart(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await _act(sup, args, "restart", {"running"})


@command("reload")
async def reload(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return await sup.reload("control")


@command("graph")
async def graph(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    return {"services": [{"name": r.name, "state": r.state, "detail": r.detail,
                          "depends_on": r.spec["depends_on"]} for r in sup.runners.values()]}


@command("logs")
async def logs(sup: Supervisor, args: dict[str, Any]) -> Any:
    name = args.get("name")
    if not isinstance(name, str):
        raise RequestError("logs needs a service name")
    sup.runner(name)
    lines = int(args.get("lines", 50))
    tail = sup.logs.get(name).tail(lines) if lines > 0 else []
    if not args.get("follow"):
        return {"lines": tail}
    live = sup.subscribe(lambda e: e.name == "service_output" and e.fields["service"] == name)
    return _chain([{"event": "log_line", "text": line} for line in tail], live)


@command("events")
async def events(sup: Supervisor, args: dict[str, Any]) -> Any:
    wanted = args.get("events") or []
    accept = (lambda e: e.name in wanted) if wanted else (lambda e: True)
    history = sup.bus.history(accept, int(args.get("limit", 100)))
    if not args.get("follow"):
        return {"events": history}
    return _chain(history, sup.subscribe(accept))


async def _chain(first: list[dict[str, Any]], live: Any) -> Any:
    """History, then live events; closing the stream closes the subscription too."""
    try:
        for item in first:
            yield item
        async for event in live:
            yield event
    finally:
        await live.aclose()


@command("publish")
async def publish(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    """A client's audit record onto the event stream (``traderctl events`` shows it).

    Only ``audit_*`` names, so a client cannot forge the supervisor's own events; the
    ``control_request`` event emitted before this one carries the peer's verified uid/pid.
    """
    name, fields = args.get("event"), args.get("fields") or {}
    if not isinstance(name, str) or not name.startswith("audit_") or not name.isidentifier():
        raise RequestError("event must be an audit_* name")
    if not isinstance(fields, dict):
        raise RequestError("fields must be a mapping")
    event = Event(name, fields)
    sup.emit(event)
    return {"event": name, "ts": event.ts.isoformat()}
