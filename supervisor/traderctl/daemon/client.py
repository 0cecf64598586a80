"""The CLI side of the control socket: blocking, stdlib only, so commands start fast.

Before sending anything the client asks the kernel who listens (SO_PEERCRED) and talks
only to its own uid or root: a socket planted by another user gets no request, and so
learns nothing and can answer nothing.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
from collections.abc import Iterator

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from typing import Any, NoReturn


EXIT_REFUSED = 1
EXIT_UNREACHABLE = 4


class DaemonUnreachable(Exception):
    """No supervisor answers on the socket (exit code 4 for the daemon commands)."""


class ControlError(Exception):
    """The supervisor refused or failed the request."""


class UntrustedServer(ControlError):
    """The socket is served by a process of another user."""


def server_uid(sock: socket.socket) -> int:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


class ControlClient:
    def __init__(self, path: str, timeout: float | None = 10.0) -> None:
        self.path = path
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            reason = exc.strerror or exc
            raise DaemonUnreachable(f"no supervisor at {self.path}: {reason}") from None
        uid = server_uid(sock)
        if uid not in (os.getuid(), 0):
            sock.close()
            raise UntrustedServer(f"{self.path} is served by uid {uid}, not by this user "
                                  f"(uid {os.getuid()}) or root; refusing to talk to it")
        return sock

    def call(self, cmd: str, **args: Any) -> Any:
        with self._connect() as sock:
            _send(sock, cmd, args)
            reply = next(_replies(sock), None)
        if reply is None:
            raise ControlError("the supervisor closed the connection without answering")
        if not reply.get("ok"):
            raise ControlError(reply.get("error", "unknown error"))
        return reply.get("result")

    def stream(self, cmd: str, **args: Any) -> Iterator[dict[str, Any]]:
        """Connect and send now (so the subscription exists on return); iterate for items."""
        sock = self._connect()
        sock.settimeout(None)
        try:
            _send(sock, cmd, args)
            replies = _replies(sock)
            ack = next(replies, None)
        except BaseException:
            sock.close()
            raise
        if ack is None or not ack.get("ok"):
            sock.close()
            raise ControlError((ack or {}).get("error", "connection closed without an answer"))
        return self._items(sock, replies)

    def _items(self, sock: socket.socket, replies: Iterator[dict[str, Any]]
               ) -> Iterator[dict[str, Any]]:
        try:
            for reply in replies:
                if not reply.get("ok"):
                    raise ControlError(reply.get("error", "unknown error"))
                item = reply["event"] if "event" in reply else reply.get("result")
                if isinstance(item, dict):
                    yield item
        finally:
            sock.close()


def _send(sock: socket.socket, cmd: str, args: dict[str, Any]) -> None:
    sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")


def _replies(sock: socket.socket) -> Iterator[dict[str, Any]]:
    buffer = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise ControlError("the supervisor did not answer in time") from None
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


# ---- for the commands: errors as exit codes ----------------------------------------------


def fail(exc: Exception) -> NoReturn:
    """Unreachable daemon -> exit 4, refused request -> exit 1, each with its message."""
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(EXIT_UNREACHABLE if isinstance(exc, DaemonUnreachable) else EXIT_REFUSED)


def call(path: str, cmd: str, **args: Any) -> Any:
    """One request and its result; a failure ends the command with its exit code."""
    timeout = float(args.get("timeout") or 10) + 5
    try:
        return ControlClient(path, timeout).call(cmd, **args)
    except (DaemonUnreachable, ControlError) as exc:
        fail(exc)


def stream(path: str, cmd: str, **args: Any) -> Iterator[dict[str, Any]]:
    """Items of a streaming request until the daemon ends it or Ctrl-C."""
    try:
        yield from ControlClient(path, timeout=None).stream(cmd, **args)
    except (DaemonUnreachable, ControlError) as exc:
        fail(exc)
    except KeyboardInterrupt:
        return
