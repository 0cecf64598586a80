"""The CLI side of the control socket: blocking, stdlib only, so commands start fast."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any


class DaemonUnreachable(Exception):
    """No supervisor answers on the socket (exit code 4 for ``status``)."""


class ControlError(Exception):
    """The supervisor refused or failed the request."""


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
                yield reply["event"] if "event" in reply else reply.get("result", {})
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
