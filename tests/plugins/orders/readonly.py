"""A read-only API session at the wire: a TCP proxy in front of the simulator that answers
placeOrder and cancelOrder with TWS's read-only refusal (error 321) instead of forwarding
them. The simulator
has no read-only switch; this is what TWS sends with "Read-Only API" checked."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from traderctl.simulator.protocol import encode_message, parse_length, split_fields

READ_ONLY_TEXT = ("Error validating request.-'bN' : cause - The API interface is currently "
                  "in Read-Only mode.")
PLACE_ORDER, CANCEL_ORDER = "3", "4"


async def _frame(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(4)
    return header + await reader.readexactly(parse_length(header))


class ReadOnlyProxy:
    """``ReadOnlyProxy(sim.port).start()``; connect to ``.port``; ``.stop()``."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = 0
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> ReadOnlyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        try:
            up_writer.write(await reader.readexactly(4) + await _frame(reader))  # API\0 + versions
            down = asyncio.ensure_future(self._pipe(up_reader, writer))
            self._tasks.add(down)
            while True:
                frame = await _frame(reader)
                fields = split_fields(frame[4:])
                if fields and fields[0] in (PLACE_ORDER, CANCEL_ORDER):
                    order_id = fields[1] if fields[0] == PLACE_ORDER else fields[2]
                    self.refused.append(order_id)
                    writer.write(encode_message([4, 2, order_id, 321, READ_ONLY_TEXT, ""]))
                else:
                    up_writer.write(frame)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            up_writer.close()
            writer.close()
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(await _frame(reader))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
