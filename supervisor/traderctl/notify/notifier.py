"""Notifications: chosen events to a webhook (requests) or a command, deduplicated and
rate-limited.

Configured under ``notify.targets``; fed by the supervisor's ``on_event``
hook. Sending happens on one worker thread so a slow webhook never holds up
the event loop; a full queue drops (and logs) rather than blocking.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections import deque
from typing import TypedDict

from traderctl.events import Event
from traderctl.logs import get_logger

log = get_logger(__name__)


class RateLimit(TypedDict):
    count: int
    per: float


class TargetSpec(TypedDict):
    """One ``notify.targets`` entry as the config layer validated it (durations in seconds)."""

    name: str
    url: str | None
    command: list[str] | None
    events: list[str]
    states: list[str]
    dedupe: float
    rate_limit: RateLimit
    timeout: float


class Target:
    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec
        self.name = spec["name"]
        self.events = set(spec["events"])
        self.states = set(spec["states"])
        self.recent: dict[str, float] = {}
        self.sent: deque[float] = deque()

    def wants(self, event: Event) -> bool:
        if self.events and event.name not in self.events:
            return False
        if self.states and event.name == "service_state":
            return event.fields.get("to") in self.states
        return True

    def admit(self, event: Event, now: float) -> str | None:
        """None to send, or why not: duplicate within the window, or over the rate limit."""
        key = json.dumps([event.name, event.fields.get("service"), event.fields.get("to"),
                          event.fields.get("detail")], default=str)
        if now - self.recent.get(key, -1e18) < self.spec["dedupe"]:
            return "duplicate"
        limit = self.spec["rate_limit"]
        while self.sent and now - self.sent[0] > limit["per"]:
            self.sent.popleft()
        if len(self.sent) >= limit["count"]:
            return "rate_limited"
        self.recent[key] = now
        self.sent.append(now)
        return None


class Notifier:
    def __init__(self) -> None:
        self.targets: list[Target] = []
        self.queue: queue.Queue[tuple[Target, Event] | None] = queue.Queue(1000)
        self.worker: threading.Thread | None = None

    def configure(self, targets: list[TargetSpec]) -> None:
        self.targets = [Target(t) for t in targets]
        if self.targets and self.worker is None:
            self.worker = threading.Thread(target=self._work, name="notifier", daemon=True)
            self.worker.start()

    def on_event(self, event: Event) -> None:
        if event.name.startswith("notification_"):
            return  # never notify about notifying
        now = time.monotonic()
        for target in self.targets:
            if not target.wants(event):
                continue
            refused = target.admit(event, now)
            if refused:
                log.debug("notification_suppressed", target=target.name, reason=refused,
                          notified_event=event.name)
                continue
            try:
                self.queue.put_nowait((target, event))
            except queue.Full:
                log.warning("notification_dropped", target=target.name, reason="queue full")

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (within ``timeout``), then stop the worker."""
        if self.worker is not None:
            self.queue.put(None)
            self.worker.join(timeout)
            self.worker = None

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            target, event = item
            try:
                deliver(target.spec, event)
            except Exception as exc:  # a broken target must not kill the worker
                log.warning("notification_failed", target=target.name, error=str(exc))
            else:
                log.info("notification_sent", target=target.name, notified_event=event.name)


def deliver(spec: TargetSpec, event: Event) -> None:
    body = json.dumps(event.to_dict(), default=str)
    url, command = spec["url"], spec["command"]
    if url:
        import requests

        response = requests.post(url, data=body, timeout=spec["timeout"],
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "traderctl-notifier"})
        response.raise_for_status()
    if command:
        # the event goes on stdin, never on the command line (it may carry details)
        from traderctl.services.environment import inherited_environment

        subprocess.run(command, input=body, text=True, timeout=spec["timeout"],
                       check=True, capture_output=True, env=inherited_environment())
