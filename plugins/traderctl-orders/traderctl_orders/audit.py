"""Audit events: every order sent, modified, cancelled or refused, with who did it.

``audit_order_sent|modified|cancelled``, and ``audit_order_refused`` with the ``stage``
that refused (account, limits, confirmation, what-if, tws, order) and the reason.

Written to ``<supervisor.data_dir>/orders/audit.jsonl`` (0600) and published on the
supervisor's event stream (control request ``publish``) so ``traderctl events`` shows it;
a supervisor that is not running is logged, the file still has the record.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from traderctl.events import Event
from traderctl.logs import get_logger

log = get_logger(__name__)


def caller() -> dict[str, Any]:
    return {"user": getpass.getuser(), "uid": os.getuid(), "pid": os.getpid(),
            "host": socket.gethostname(), "argv": sys.argv[1:]}


def record(config: Any, socket_path: str, name: str, fields: dict[str, Any]) -> Event:
    """Write one audit event to the file and the supervisor (``name``: audit_order_*)."""
    event = Event(name, {**fields, "caller": caller()})
    path = Path(config.get("supervisor.data_dir")) / "orders" / "audit.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write(json.dumps(event.to_dict(), default=str) + "\n")
    try:
        from traderctl.daemon.client import ControlClient, ControlError, DaemonUnreachable

        ControlClient(socket_path, timeout=5).call(
            "publish", event=name, fields=json.loads(json.dumps(event.fields, default=str)))
    except (DaemonUnreachable, ControlError, OSError) as exc:
        log.warning("order_audit_not_published", audit_event=name, reason=str(exc), file=str(path))
    return event
