"""systemd's notify protocol: STATUS lines while services start, READY=1 once they run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.daemon.conftest import child, wait_until
from tests.daemon.test_supervisor import free_port


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, list[tuple[float, str]]]]:
    """A datagram socket like systemd's; every message with its arrival time (epoch)."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.1)
    received: list[tuple[float, str]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                received.append((time.time(), sock.recv(4096).decode()))
            except TimeoutError:
                continue

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    yield path, received
    done.set()
    thread.join()
    sock.close()


def test_ready_once_every_autostart_service_runs(daemon, notify_socket) -> None:
    path, received = notify_socket
    port = free_port()
    d = daemon(f"""
        slow:
          command: {child("listen_later", port, 1.5)}
          readiness: {{tcp: "127.0.0.1:{port}"}}
        manual:
          command: {child("sleeper")}
          autostart: false
    """, env={"NOTIFY_SOCKET": path})
    wait_until(lambda: any("READY=1" in m for _, m in received), 20, "READY=1")
    running = d.events("service_state", service="slow", to="running")[0]
    ready_at = next(t for t, m in received if "READY=1" in m)
    assert ready_at >= datetime.fromisoformat(running["ts"]).timestamp()
    before = [m for t, m in received if t < ready_at]
    assert any(m.startswith("STATUS=starting: 0/1 up; waiting for slow") for m in before)
