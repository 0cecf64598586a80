"""``traderctl status``: services and their states; exit 0 all up, 3 not, 4 no supervisor.

"Up" means what the operator expects: a service that should be running and is. A job left
stopped by ``autostart: false`` or a ``restart: never`` oneshot that exited 0 is not down.
"""

from __future__ import annotations

from traderctl.cli.spec import CommandSpec, Opt
from traderctl.cli.target import Target
from traderctl.commands.remote import call, service_names

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

EXIT_NOT_RUNNING = 3


def run(target: Target, names: tuple[str, ...], as_json: bool) -> int:
    from traderctl.output import print_json, print_table

    result = call(target, "status", names=list(names))
    services = result["services"]
    if as_json:
        print_json(result)
    else:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        print_table(["name", "state", "pid", "since", "restarts", "detail"], [
            (s["name"], s["state"], s["pid"] or "-", _age(now, s["since"]), s["restarts"],
             s["detail"]) for s in services])
    if disk := result["supervisor"].get("disk"):
        import sys

        print(f"warning: {disk['detail']}", file=sys.stderr)  # a full disk under data_dir
    return EXIT_NOT_RUNNING if down(services) else 0


def down(services: list[dict[str, Any]]) -> list[str]:
    """Services that should be running and are not."""
    return [s["name"] for s in services
            if s.get("should_run", s["autostart"]) and s["state"] != "running"]


def _age(now: datetime, since: str) -> str:
    from datetime import datetime

    from traderctl.durations import format_duration

    seconds = int((now - datetime.fromisoformat(since)).total_seconds())
    return format_duration(max(seconds, 0)) if seconds else "0s"


status = CommandSpec("status", """Show services and their states (all, or NAMES).

Exit 0 when every service that should be running is running, 3 when one is not
(not counting `autostart: false` jobs or oneshots that finished), 4 without a supervisor.
""", run, (
    Opt("names", many=True, metavar="[NAMES]...", completion=service_names),
    Opt("as_json", ("--json",), bool, False, "JSON for scripts."),
))
