"""IBC's command server, as the fake launcher plays it.

Plain text lines, case-insensitive, replies ``OK <info>`` / ``INFO <info>``
(unless ``SuppressInfoMessages=yes``, the default) / ``ERROR <info>``, with
the wording of IBC's CommandDispatcher, StopTask and RestartTask. Connections from hosts
outside ``ControlFrom`` (localhost is always allowed) are closed unanswered.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from ._log import get_logger
from .ibc_config import IbcIni
from .lineserver import LineServer

if TYPE_CHECKING:
    from .fake_ibc import FakeIbc

log = get_logger(__name__)
_LOCAL = {"127.0.0.1", "::1", "localhost"}


class CommandServer(LineServer):
    def __init__(self, ibc: FakeIbc, ini: IbcIni) -> None:
        super().__init__()
        self.ibc = ibc
        self.port = int(ini.number("CommandServerPort", 0))
        self.bind = ini.get("BindAddress") or "127.0.0.1"
        self.allowed = _LOCAL | {h.strip() for h in ini.get("ControlFrom").split(",") if h.strip()}
        self.prompt = ini.get("CommandPrompt")
        self.suppress_info = ini.flag("SuppressInfoMessages", default=True)

    async def start(self) -> None:
        if self.port <= 0:
            return
        await self.listen(self.bind, self.port)
        log.info("fake_ibc_command_server_listening", host=self.bind, port=self.port)

    def _allowed(self, host: str) -> bool:
        if host in self.allowed:
            return True
        try:
            return socket.gethostbyaddr(host)[0] in self.allowed
        except OSError:
            return False

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        try:
            if not self._allowed(peer[0]):
                log.warning("fake_ibc_command_denied", peer=peer[0])
                return
            while line := (await reader.readline()).decode(errors="replace").strip():
                keep_open = await self._dispatch(line, writer)
                await writer.drain()
                if not keep_open:
                    break
        except ConnectionError:
            pass
        except asyncio.CancelledError:
            if self._server is not None and self._server.is_serving():
                raise
        finally:
            writer.close()

    def _write(self, writer: asyncio.StreamWriter, kind: str, text: str) -> None:
        if kind == "INFO" and self.suppress_info:
            return
        writer.write(f"{kind} {text}\n".encode())

    async def _dispatch(self, line: str, writer: asyncio.StreamWriter) -> bool:
        """Handle one command; False closes the connection."""
        cmd = line.upper()
        log.info("fake_ibc_command", command=cmd)
        ibc = self.ibc
        if cmd == "EXIT":
            self._write(writer, "OK", "Goodbye")
            return False
        if cmd == "STOP":  # StopTask
            self._write(writer, "INFO", "Closing IBC")
            self._write(writer, "OK", "Shutting down: STOP command")
            ibc.request_stop()
            return False
        if cmd == "RESTART":  # RestartTask: TWS has a restart menu, the Gateway does not
            self._write(writer, "INFO", "Restarting TWS")
            self._write(writer, "OK", "RESTART in progress")
            at = ibc.request_restart()
            if at is not None:
                self._write(writer, "OK", f"RESTART at {at}")
            return False
        if cmd == "RECONNECTDATA":
            await ibc.sim.announce_farms()
            self._write(writer, "OK", "")
        elif cmd == "RECONNECTACCOUNT":
            await ibc.sim.set_connectivity(1100)
            await ibc.sim.set_connectivity(1102)
            self._write(writer, "OK", "")
        elif cmd == "ENABLEAPI":
            if ibc.args.gateway:
                self._write(writer, "ERROR", "ENABLEAPI is not valid for the IB Gateway")
            else:
                await ibc.sim.accept_connections()
                self._write(writer, "OK", "")
        else:
            self._write(writer, "ERROR", "Command invalid")
        if self.prompt:
            writer.write(self.prompt.encode())
        return True
