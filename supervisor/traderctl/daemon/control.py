"""The control socket: a unix socket (mode 0600, peer uid checked) speaking JSON lines.

A request is one line ``{"cmd": "...", "args": {...}}``; the reply is one line
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Streaming
commands (``events -f``, ``logs -f``) send one ``{"ok": true, "event": ...}``
line per event until the client hangs up. Garbage gets an error reply and
never disturbs the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from traderctl.logs import get_logger

log = get_logger(__name__)

MAX_REQUEST = 64 * 1024


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int


class RequestError(Exception):
    """An error the client caused: reported back, nothing else happens."""


Handler = Callable[[dict[str, Any], Peer], Awaitable[Any]]


def peer_credentials(sock: socket.socket) -> Peer:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


class AlreadyRunning(RuntimeError):
    pass


class ControlServer:
    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self.server: asyncio.base_events.Server | None = None
        self.clients: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        await self._remove_stale()
        old_umask = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._serve, self.path,
                                                          limit=MAX_REQUEST)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def _remove_stale(self) -> None:
        if not os.path.exists(self.path):
            return
        try:
            _reader, writer = await asyncio.open_unix_connection(self.path)
        except OSError:
            os.unlink(self.path)  # nobody listens: left by a crashed supervisor
            return
        writer.close()
        await writer.wait_closed()
        raise AlreadyRunning(f"another supervisor is listening on {self.path}")

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.clients):
            task.cancel()
        await asyncio.gather(*self.clients, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.clients.add(task)
        try:
            peer = peer_credentials(writer.get_extra_info("socket"))
            if peer.uid not in (os.getuid(), 0):
                log.warning("control_denied", uid=peer.uid, pid=peer.pid)
                # read the request first: closing on unread data resets the connection
                # and the client would never see why
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.readline(), 1.0)
                await _send(writer, {"ok": False, "error": "permission denied"})
                return
            await self._requests(reader, writer, peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.clients.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        peer: Peer) -> None:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                await _send(writer, {"ok": False,
                                     "error": f"request larger than {MAX_REQUEST} bytes"})
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    await _send(writer, {"ok": False, "error": "request not terminated by newline"})
                return
            try:
                request = parse_request(line)
                result = await self.handler(request, peer)
            except RequestError as exc:
                await _send(writer, {"ok": False, "error": str(exc)})
                continue
            if isinstance(result, AsyncIterator):
                # the ack tells the client its subscription exists: nothing after it is missed
                await _send(writer, {"ok": True, "result": "streaming"})
                await self._stream(result, reader, writer)
                return
            await _send(writer, {"ok": True, "result": result})

    async def _stream(self, items: AsyncIterator[dict[str, Any]], reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        """Send items until they end or the client hangs up (reading EOF tells us)."""
        async def pump() -> None:
            async for item in items:
                await _send(writer, {"ok": True, "event": item})

        pump_task = asyncio.ensure_future(pump())
        hangup = asyncio.ensure_future(reader.read())
        try:
            await asyncio.wait([pump_task, hangup], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump_task, hangup):
                task.cancel()
            await asyncio.gather(pump_task, hangup, return_exceptions=True)
            await items.aclose()  # type: ignore[attr-defined]


def parse_request(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"malformed JSON: {exc}") from None
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        raise RequestError('expected an object like {"cmd": "status", "args": {}}')
    args = request.get("args", {})
    if not isinstance(args, dict):
        raise RequestError("args must be an object")
    return {"cmd": request["cmd"], "args": args}


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message, default=str).encode() + b"\n")
    await writer.drain()
