"""systemd's notify protocol, written out (one datagram; no libsystemd needed)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable


def sd_notify(*lines: str) -> bool:
    """Send ``READY=1``, ``STATUS=...`` etc.; a no-op (False) when not run by systemd."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr[0] == "@":
        addr = "\0" + addr[1:]
    elif addr[0] != "/":
        return False  # vsock and other transports are not ours to handle
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(addr)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of ``WATCHDOG_USEC`` in seconds, if systemd asked this process for pings."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


async def announce_ready(progress: Callable[[], tuple[bool, str]], timeout: float,
                         interval: float = 0.2) -> None:
    """``STATUS=`` lines while services start, then ``READY=1``.

    ``progress`` says whether start-up has settled (every autostart service running,
    or done, or given up) and how far it got. After ``timeout`` READY=1 is sent anyway,
    so systemd's start timeout never kills a supervisor waiting on a slow login.
    """
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        settled, text = progress()
        if settled or time.monotonic() >= deadline:
            status = text if settled else f"{text} (ready after {timeout:g}s anyway)"
            sd_notify("READY=1", f"STATUS={status}")
            return
        if text != last:
            sd_notify(f"STATUS={text}")
            last = text
        await asyncio.sleep(interval)


async def status_loop(summary: Callable[[], str], tick: Callable[[], None]) -> None:
    """Every second: ``tick()``, then ``STATUS=`` the summary when it changed."""
    last = ""
    while True:
        await asyncio.sleep(1.0)
        tick()
        if (text := summary()) != last:
            sd_notify(f"STATUS={text}")
            last = text


async def watchdog(interval: float) -> None:
    """``WATCHDOG=1`` every ``interval`` seconds (see :func:`watchdog_interval`)."""
    # pinging from the loop itself means a stuck loop stops the pings, as it should
    while True:
        sd_notify("WATCHDOG=1")
        await asyncio.sleep(interval)
