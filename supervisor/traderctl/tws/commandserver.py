"""Client for IBC's command server: one command per connection, one reply.

IBC's protocol is plain text lines over TCP, commands case-insensitive, no
arguments. Replies are ``OK <info>``, ``ERROR <info>`` and (unless
``SuppressInfoMessages=yes``, which traderctl writes) ``INFO <info>`` lines;
``STOP`` and ``RESTART`` close the connection after their ``OK``; on IB Gateway
``RESTART`` answers twice, ``OK RESTART in progress`` then ``OK RESTART at hh:mm
AM`` (IBC's ``RestartTask``: the Gateway has no restart menu, so IBC sets its
auto-restart time to the next minute), and every line up to the close is kept. The server
is bound to 127.0.0.1 with ``ControlFrom=127.0.0.1`` by the rendered ini.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

COMMANDS = frozenset({"STOP", "RESTART", "RECONNECTDATA", "RECONNECTACCOUNT", "ENABLEAPI",
                      "PAUSE", "EXIT"})


class CommandServerError(OSError):
    """IBC's command server could not be reached or did not answer."""


CLOSING = frozenset({"STOP", "RESTART", "PAUSE", "EXIT"})


@dataclass(frozen=True)
class Reply:
    ok: bool
    text: str
    more: tuple[str, ...] = ()  # later OK texts (the Gateway's "RESTART at hh:mm AM")

    def __str__(self) -> str:
        return ("OK" if self.ok else "ERROR") + (f" {self.text}" if self.text else "")


async def send_command(port: int, command: str, within: float = 5.0,
                       host: str = "127.0.0.1") -> Reply:
    """Send ``command`` and return IBC's ``OK``/``ERROR`` reply; CommandServerError otherwise."""
    command = command.strip().upper()
    if command not in COMMANDS:
        raise ValueError(f"not an IBC command: {command!r}")
    try:
        async with asyncio.timeout(within):
            return await _exchange(host, port, command)
    except TimeoutError:
        raise CommandServerError(f"IBC command server {host}:{port} did not answer {command} "
                                 f"within {within:g}s") from None
    except OSError as exc:
        if isinstance(exc, CommandServerError):
            raise
        raise CommandServerError(f"IBC command server {host}:{port}: "
                                 f"{exc.strerror or exc}") from None


async def _exchange(host: str, port: int, command: str) -> Reply:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(command.encode() + b"\n")
        await writer.drain()
        while True:
            raw = await reader.readline()
            if not raw:
                raise CommandServerError(f"IBC command server closed the connection "
                                         f"without answering {command}")
            line = raw.decode(errors="replace").strip()
            word, _, rest = line.partition(" ")
            if word.upper() == "OK":
                more = await _rest_of(reader) if command in CLOSING else ()
                return Reply(True, rest.strip(), more)
            if word.upper() == "ERROR":
                return Reply(False, rest.strip())
            # INFO lines and a configured CommandPrompt: keep reading
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def _rest_of(reader: asyncio.StreamReader) -> tuple[str, ...]:
    """The further ``OK`` texts of a command IBC answers and then hangs up on."""
    found = []
    while raw := await reader.readline():
        word, _, rest = raw.decode(errors="replace").strip().partition(" ")
        if word.upper() == "OK":
            found.append(rest.strip())
    return tuple(found)
