"""The API listener: TCP port, client connections, client ids and tracked tasks.

:class:`Listener` is the part of the simulated TWS that owns sockets. It binds
the port (closed while a fault phase such as a login or a pending second
factor keeps it shut), runs one :class:`~traderctl.simulator.session.ClientSession`
per connection, hands out client ids (326 on a duplicate) and keeps a
reference to every task it starts so ``stop()`` can cancel and await them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ._log import get_logger
from .faults import FaultState

if TYPE_CHECKING:
    from .session import ClientSession

log = get_logger(__name__)


class Listener:
    """Port, sessions and tasks; subclasses add what the sessions are served."""

    def __init__(self, host: str, port: int, faults: FaultState) -> None:
        self.host = host
        self.port = port
        self.faults = faults
        self._sessions: set[ClientSession] = set()
        self._clients: dict[int, ClientSession] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._stopping = False

    def new_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> ClientSession:
        """The session object serving one connection (the subclass knows how)."""
        raise NotImplementedError

    # ---- tasks ----------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a task that ``stop()`` cancels and awaits."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close_all(self) -> None:
        """Close the port and every connection; cancel and await every task."""
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for session in list(self._sessions):
            session.close()
        tasks = list(self._tasks)
        for task in tasks:
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await asyncio.wait_for(server.wait_closed(), 5)

    # ---- port -----------------------------------------------------------------------

    async def bind(self) -> None:
        self._server = await asyncio.start_server(
            self._on_client,
            self.host,
            self.port,
            reuse_address=True,
            start_serving=False,
            limit=1 << 20,
        )
        if not self.port:
            self.port = self._server.sockets[0].getsockname()[1]
        if self.faults.port_open:
            await self._server.start_serving()

    async def sync_listener(self) -> None:
        """Open or close the API port to match the fault state."""
        if self.faults.port_open and self._server is None:
            await self.bind()
            log.info("sim_tws_port_opened", port=self.port)
        elif not self.faults.port_open and self._server is not None:
            server, self._server = self._server, None
            server.close()
            log.info("sim_tws_port_closed", port=self.port, state=self.faults.summary())

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        session = self.new_session(reader, writer)
        self._sessions.add(session)
        try:
            await session.run()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() cancels sessions stuck in a freeze; end quietly so the
            # stream protocol's done-callback does not log the cancellation
        finally:
            self._sessions.discard(session)

    # ---- clients --------------------------------------------------------------------

    @property
    def sessions(self) -> list[ClientSession]:
        return list(self._sessions)

    @property
    def client_ids(self) -> list[int]:
        return sorted(self._clients)

    def claim_client_id(self, client_id: int, session: ClientSession) -> bool:
        holder = self._clients.get(client_id)
        if holder is not None and not holder.closed:
            return False
        self._clients[client_id] = session
        return True

    def forget(self, session: ClientSession) -> None:
        if session.client_id is not None and self._clients.get(session.client_id) is session:
            del self._clients[session.client_id]

    def client(self, client_id: int) -> ClientSession | None:
        """The open session holding ``client_id``, if any."""
        session = self._clients.get(client_id)
        return session if session is not None and not session.closed else None

    def broadcast_error(self, code: int, text: str) -> None:
        for session in list(self._sessions):
            if session.ready:
                session.error(-1, code, text)
