"""Notifications to a real local webhook and a real command."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.daemon.conftest import child, wait_until
from traderctl.events import Event
from traderctl.notify.notifier import Target


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/s3cr3t-token", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_failed_service_is_notified_once_by_webhook_and_command(daemon, webhook, tmp_path: Path
                                                                 ) -> None:
    url, received = webhook
    out = tmp_path / "notified.jsonl"
    d = daemon(f"""
        flaky:
          command: {child("sleeper", 0, 1)}
          backoff: {{initial: 50ms, factor: 1, max: 50ms, jitter: 0}}
          start_limit: {{burst: 2, interval: 1m}}
    """, start=False)
    d.config.write_text(d.config.read_text() + f"""
notify:
  targets:
    - name: hook
      url: {url}
    - name: script
      command: ["sh", "-c", "cat >> {out}; echo >> {out}"]
""")
    d.start()
    d.wait_state("flaky", "failed")
    wait_until(lambda: received and out.exists() and out.read_text().strip(), 5, "both targets")
    assert [(e["event"], e["to"]) for e in received] == [("service_state", "failed")]
    assert json.loads(out.read_text().splitlines()[0])["service"] == "flaky"
    d.stop()
    assert "s3cr3t-token" not in d.stderr()  # the URL is a secret: redacted from logs


def test_dedupe_and_rate_limit() -> None:
    target = Target({"name": "t", "events": [], "states": [], "dedupe": 60.0,
                     "rate_limit": {"count": 2, "per": 100.0}})
    down = Event("service_state", {"service": "a", "to": "failed", "detail": "x"})
    assert target.admit(down, 0.0) is None
    assert target.admit(down, 30.0) == "duplicate"
    assert target.admit(down, 61.0) is None
    other = Event("service_state", {"service": "b", "to": "failed", "detail": "x"})
    assert target.admit(other, 62.0) == "rate_limited"
    assert target.admit(other, 162.0) is None


def test_failed_delivery_does_not_log_the_webhook_token(daemon) -> None:
    from tests.daemon.test_supervisor import free_port

    url = f"http://127.0.0.1:{free_port()}/hook/n0tify-s3cr3t"  # nobody listens there
    d = daemon(f"""
        flaky:
          command: {child("sleeper", 0, 1)}
          backoff: {{initial: 50ms, factor: 1, max: 50ms, jitter: 0}}
          start_limit: {{burst: 1, interval: 1m}}
    """, start=False)
    d.config.write_text(d.config.read_text() + f"notify:\n  targets:\n    - url: {url}\n")
    d.start()
    d.wait_state("flaky", "failed")
    wait_until(lambda: "notification_failed" in d.stderr(), 15, "a failed delivery")
    assert "n0tify-s3cr3t" not in d.stderr()
    assert "Max retries exceeded" in d.stderr()  # the error itself is still told
