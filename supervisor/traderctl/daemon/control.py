"""The control socket: a unix socket (mode 0600, peer uid checked) speaking JSON lines.

A request is one line ``{"cmd": "...", "args": {...}}``; the reply is one line
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Streaming
commands (``events -f``, ``logs -f``) send one ``{"ok": true, "event": ...}``
line per event until the client hangs up. Garbage gets an error reply and
never disturbs the daemon: whatever a handler raises becomes an error reply.

The socket lives in a directory only its owner can write (checked before binding), a
connection idle for ``idle_timeout`` seconds is closed, and at most ``max_clients``
connections are served at once: a local user cannot hold the daemon's descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from traderctl.logs import get_logger

log = get_logger(__name__)

MAX_REQUEST = 64 * 1024
IDLE_TIMEOUT = 60.0
MAX_CLIENTS = 64


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int


class RequestError(Exception):
    """An error the client caused: reported back, nothing else happens."""


class ControlSocketError(RuntimeError):
    """The socket cannot be served safely at its configured path."""


class AlreadyRunning(ControlSocketError):
    pass


Handler = Callable[[dict[str, Any], Peer], Awaitable[Any]]
Audit = Callable[[str, dict[str, Any]], None]


def peer_credentials(sock: socket.socket) -> Peer:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def secure_directory(directory: str) -> None:
    """Create ``directory`` 0700, or refuse one that someone else could plant a socket in.

    Another user who pre-creates ``/tmp/traderctl-<uid>`` would otherwise own the place
    where our clients connect, and could listen there before us.
    """
    if not os.path.lexists(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise ControlSocketError(f"socket directory {directory} is not a directory")
    if info.st_uid != os.geteuid():
        raise ControlSocketError(
            f"socket directory {directory} belongs to uid {info.st_uid}, not to this user "
            f"(uid {os.geteuid()}); refusing to serve the control socket there")
    if info.st_mode & 0o022:
        raise ControlSocketError(
            f"socket directory {directory} is writable by others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to serve the control socket")


class ControlServer:
    def __init__(self, path: str, handler: Handler, audit: Audit | None = None,
                 idle_timeout: float = IDLE_TIMEOUT, max_clients: int = MAX_CLIENTS) -> None:
        self.path = path
        self.handler = handler
        self.audit = audit
        self.idle_timeout = idle_timeout
        self.max_clients = max_clients
        self.server: asyncio.base_events.Server | None = None
        self.clients: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        secure_directory(os.path.dirname(os.path.abspath(self.path)))
        await self._remove_stale()
        old_umask = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._serve, self.path,
                                                          limit=MAX_REQUEST)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def _remove_stale(self) -> None:
        """Remove a socket nobody listens on; never anything that is not a socket."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise ControlSocketError(f"{self.path} exists and is not a socket; "
                                     "refusing to replace it (remove it or change "
                                     "supervisor.socket)")
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
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.clients.add(task)
        try:
            await self._admit(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except Exception as exc:  # nothing may escape into asyncio's "unhandled" log
            log.error("control_connection_failed", error=repr(exc))
        finally:
            self.clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _admit(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = peer_credentials(writer.get_extra_info("socket"))
        if peer.uid not in (os.getuid(), 0):
            self._record("control_denied", {"uid": peer.uid, "pid": peer.pid,
                                            "reason": "uid not allowed"})
            await self._refuse(reader, writer, "permission denied")
        elif len(self.clients) > self.max_clients:
            self._record("control_denied", {"uid": peer.uid, "pid": peer.pid,
                                            "reason": "too many connections"})
            await self._refuse(reader, writer, f"too many connections (limit "
                                               f"{self.max_clients}); try again")
        else:
            await self._requests(reader, writer, peer)

    def _record(self, name: str, fields: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit(name, fields)
        else:
            log.warning(name, **fields)

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      error: str) -> None:
        # read the request first: closing on unread data resets the connection
        # and the client would never see why
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.readline(), 1.0)
        await _send(writer, {"ok": False, "error": error})

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        peer: Peer) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), self.idle_timeout)
            except asyncio.LimitOverrunError:
                await _send(writer, {"ok": False,
                                     "error": f"request larger than {MAX_REQUEST} bytes"})
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    await _send(writer, {"ok": False, "error": "request not terminated by newline"})
                return
            result = await self._answer(line, peer)
            if isinstance(result, AsyncIterator):
                # the ack tells the client its subscription exists: nothing after it is missed
                await _send(writer, {"ok": True, "result": "streaming"})
                await self._stream(result, reader, writer)
                return
            await _send(writer, result)

    async def _answer(self, line: bytes, peer: Peer) -> Any:
        """The reply to one request line, or the async iterator of a streaming request."""
        try:
            request = parse_request(line)
            result = await self.handler(request, peer)
        except RequestError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.error("control_request_failed", error=repr(exc), exc_info=exc)
            return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}
        if isinstance(result, AsyncIterator):
            return result
        return {"ok": True, "result": result}

    async def _stream(self, items: AsyncIterator[dict[str, Any]], reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        """Send items until they end or the client hangs up (reading EOF tells us)."""
        async def pump() -> None:
            async for item in items:
                await _send(writer, {"ok": True, "event": item}, self.idle_timeout)

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
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RequestError(f"malformed JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        raise RequestError('expected an object like {"cmd": "status", "args": {}}')
    if set(request) - {"cmd", "args"}:
        raise RequestError("unexpected keys: " + ", ".join(sorted(set(request) - {"cmd", "args"})))
    args = request.get("args", {})
    if not isinstance(args, dict):
        raise RequestError("args must be an object")
    return {"cmd": request["cmd"], "args": args}


def encode(message: dict[str, Any]) -> bytes:
    """One reply line; a result that cannot be encoded becomes an error reply."""
    try:
        return json.dumps(message, default=str, allow_nan=False).encode() + b"\n"
    except (ValueError, TypeError, RecursionError) as exc:
        error = {"ok": False, "error": f"internal error: reply not encodable: {exc}"}
        return json.dumps(error).encode() + b"\n"


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any],
                timeout: float = IDLE_TIMEOUT) -> None:
    """Write one line; a client that stops reading is given ``timeout`` seconds."""
    writer.write(encode(message))
    await asyncio.wait_for(writer.drain(), timeout)
