"""FakeVenue: the REST and WebSocket servers of the fake venue, started in background threads.

REST listens on ``port`` and the WebSocket on ``ws_port`` (0 picks free ports), both on
127.0.0.1. ``with FakeVenue() as venue:`` gives ``venue.api_url``/``venue.ws_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from traderctl_b2c2.sim.faults import Faults
from traderctl_b2c2.sim.http import VenueHTTPServer
from traderctl_b2c2.sim.state import VenueState
from traderctl_b2c2.sim.ws import Session


class FakeVenue:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, ws_port: int = 0,
                 tokens: dict[str, dict[str, str]] | None = None, quote_ttl: float = 10.0,
                 price_interval: float = 0.05, cursor_pages: bool = True,
                 stamp: bool = False) -> None:
        self.state = VenueState(tokens, quote_ttl=quote_ttl)
        self.faults = Faults(_drop=self._drop_all)
        self.host, self._port, self._ws_port = host, port, ws_port
        self.price_interval, self.stamp = price_interval, stamp
        self.http = VenueHTTPServer((host, port), self.state, self.faults, cursor_pages)
        self.sessions: dict[ServerConnection, Session] = {}
        self.ws_seen: list[dict[str, str | None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._ready = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.http.server_address[1]}"

    @property
    def ws_url(self) -> str:
        assert self._server is not None, "start the venue first"
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://{self.host}:{port}/quotes"

    @property
    def token(self) -> str:
        return next(iter(self.state.accounts))

    def start(self) -> FakeVenue:
        self._threads = [threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True,
                                          name="fake-venue-http"),
                         threading.Thread(target=self._run_loop, daemon=True,
                                          name="fake-venue-ws")]
        for thread in self._threads:
            thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake venue WebSocket server did not start")
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        for thread in self._threads:
            thread.join(10)

    def __enter__(self) -> FakeVenue:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- WebSocket loop thread --------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        async with serve(self._handle, self.host, self._ws_port, ping_interval=None,
                         max_queue=None) as server:
            self._server = server
            self._ready.set()
            await self._stop_event.wait()
            for ws in list(self.sessions):
                ws.transport.abort()

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        headers = request.headers if request else None
        self.ws_seen.append({"path": request.path if request else None,
                             "request_id": headers.get("X-Request-ID") if headers else None,
                             "user_agent": headers.get("User-Agent") if headers else None})
        if request is not None and request.path != "/quotes":
            await ws.send(json.dumps({"event": "error", "success": False, "error_code": 3002,
                                      "error_message": "Endpoint does not exist."}))
            return
        session = self.sessions[ws] = Session(ws, self.state, self.faults,
                                              self.price_interval, self.stamp)
        try:
            await session.run()
        finally:
            self.sessions.pop(ws, None)

    def subscriptions(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every live venue-side subscription, over all connections (for tests)."""
        return sorted((i, tuple(str(q) for q in levels)) for session in list(self.sessions.values())
                      for i, levels in list(session.streams))

    def _call(self, func: Any, *args: Any) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(func, *args)

    def _drop_all(self) -> None:
        def drop() -> None:
            for ws in list(self.sessions):
                ws.transport.abort()
        self._call(drop)

    def broadcast(self, frame: dict[str, Any]) -> None:
        """Send one frame to every connection (``username_update``, instrument changes)."""
        async def send_all() -> None:
            for ws in list(self.sessions):
                with contextlib.suppress(Exception):
                    await ws.send(json.dumps(frame))
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(send_all(), self._loop).result(5)

    def set_tradable(self, instruments: list[str]) -> None:
        self.state.instruments = list(instruments)
        self.broadcast({"event": "tradable_instruments_update", "success": True,
                        "tradable_instruments": sorted({i.split(".")[0] for i in instruments})})

    def rename_user(self, old: str, new: str) -> None:
        self.broadcast({"event": "username_update", "success": True, "old_username": old,
                        "new_username": new})
