"""``traderctl logs NAME [-n N] [-f]`` and ``traderctl events [-f] [--json]``.

Logs matter most when the supervisor is down: then ``logs`` reads the files it left in
``data_dir/logs``. Every line carries the same timestamp precision (milliseconds, UTC),
whether it comes from a file or live.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

from traderctl.cli.spec import CommandSpec, Opt
from traderctl.cli.target import Target
from traderctl.commands.remote import call, service_names
from traderctl.daemon.client import (
    EXIT_UNREACHABLE,
    ControlClient,
    ControlError,
    DaemonUnreachable,
    fail,
    stream,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from typing import Any


def stamp(ts: str) -> str:
    """The one timestamp format of log lines and events."""
    return datetime.fromisoformat(ts).isoformat(timespec="milliseconds")


def run_logs(target: Target, name: str, lines: int, follow: bool) -> int:
    client = ControlClient(target.socket, timeout=15)
    try:
        if not follow:
            for line in client.call("logs", name=name, lines=lines)["lines"]:
                print(line)
            return 0
        items = client.stream("logs", name=name, lines=lines, follow=True)
    except DaemonUnreachable as exc:
        return _from_files(target, name, lines, follow, exc)
    except ControlError as exc:
        fail(exc)
    try:
        for item in items:
            print(item["text"] if item["event"] == "log_line" else
                  f"{stamp(item['ts'])} {item['stream']} {item['line']}", flush=True)
    except KeyboardInterrupt:
        return 0
    print("error: the supervisor went away; no more lines will follow", file=sys.stderr)
    return EXIT_UNREACHABLE


def _from_files(target: Target, name: str, lines: int, follow: bool, exc: Exception) -> int:
    from traderctl.daemon.logfiles import LogFile

    data_dir = target.data_dir
    path = os.path.join(data_dir, "logs", f"{name}.log") if data_dir else None
    if path is None or not (os.path.exists(path) or os.path.exists(f"{path}.1")):
        where = f" and no log file {path}" if path else ""
        print(f"error: {exc}{where}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(f"note: {exc}; showing {path}", file=sys.stderr)
    for line in LogFile(path, 0, 0).tail(lines) if lines > 0 else []:
        print(line)
    if follow:
        print("error: the supervisor is not running; nothing to follow", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


logs = CommandSpec("logs", """Print a service's output (stdout and stderr, timestamped).

Without a running supervisor, prints the log files it left in data_dir/logs.""", run_logs, (
    Opt("name", required=True, metavar="NAME", completion=service_names),
    Opt("lines", ("-n",), int, 50, "Lines of history."),
    Opt("follow", ("-f", "--follow"), bool, False, "Keep printing new lines."),
))


def run_events(target: Target, follow: bool, as_json: bool, limit: int,
               names: tuple[str, ...]) -> int:
    args = {"limit": limit, "events": list(names)}
    items = (stream(target.socket, "events", follow=True, **args) if follow
             else call(target, "events", **args)["events"])
    for item in items:
        print(json.dumps(item) if as_json else event_line(item), flush=True)
    if follow:
        print("error: the supervisor went away; no more events will follow", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def event_line(item: dict[str, Any]) -> str:
    """One event as a person reads it: no empty fields, state changes as ``from -> to``."""
    name, fields = item["event"], {k: v for k, v in item.items() if k not in ("event", "ts")}
    head = f"{stamp(item['ts'])} {name:<16}"
    if name == "service_output":
        return f"{head} {fields.get('service')} {fields.get('stream')}| {fields.get('line')}"
    text = head
    if name in ("service_state", "service_detail"):
        service, old, new = (fields.pop(k, "?") for k in ("service", "from", "to"))
        text += f" {service}: {old} -> {new}"
        if detail := fields.pop("detail", None):
            text += f" ({detail})"
    rest = " ".join(f"{k}={_value(v)}" for k, v in fields.items() if v not in (None, "", [], {}))
    return f"{text} {rest}".rstrip()


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, default=str)


events = CommandSpec("events", """Print the supervisor's events (state changes, audit records,
output lines).""", run_events, (
    Opt("follow", ("-f", "--follow"), bool, False, "Keep streaming new events."),
    Opt("as_json", ("--json",), bool, False, "One JSON object per line."),
    Opt("limit", ("-n",), int, 50, "Events of history."),
    Opt("names", ("--event",), str, None, "Only these event names (repeatable).", many=True),
))
