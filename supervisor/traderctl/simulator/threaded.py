"""Run a SimTWS on its own event loop in a background thread.

Synchronous code (pytest tests that call ``asyncio.run`` themselves, the
benchmark) gets a blocking control handle whose methods marshal onto the
simulator's loop. Starting takes a few milliseconds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from .orders import OrderRecord
from .server import SimConfig, SimTWS
from .session import RequestRecord

CALL_TIMEOUT = 10.0


class SimTWSThread:
    """Blocking handle to a simulator running in a daemon thread."""

    def __init__(self, config: SimConfig | None = None, **kwargs: Any) -> None:
        self.sim = SimTWS(config, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="sim-tws", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> SimTWSThread:
        self._thread.start()
        self._ready.wait(CALL_TIMEOUT)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.sim.start()
        except BaseException as exc:  # surfaced to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.sim.stop()

    def stop(self) -> None:
        if self._thread.is_alive() and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(CALL_TIMEOUT)

    def __enter__(self) -> SimTWSThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = CALL_TIMEOUT) -> Any:
        """Run a coroutine on the simulator's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # ---- addresses and records ---------------------------------------------------

    @property
    def host(self) -> str:
        return self.sim.host

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def orders(self) -> list[OrderRecord]:
        """Every placeOrder received so far (snapshot, oldest first)."""
        return self.call(_snapshot(self.sim.orders))

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request message received so far (snapshot, oldest first)."""
        return self.call(_snapshot(self.sim.requests))

    def requests_named(self, name: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.name == name]

    # ---- faults ---------------------------------------------------------------------

    def freeze(self) -> None:
        self.call(self.sim.freeze())

    def unfreeze(self) -> None:
        self.call(self.sim.unfreeze())

    def set_delay(self, seconds: float, jitter: float = 0.0) -> None:
        self.call(self.sim.set_delay(seconds, jitter))

    def drop_connections(self) -> int:
        return self.call(self.sim.drop_connections())

    def refuse_connections(self) -> None:
        self.call(self.sim.refuse_connections())

    def accept_connections(self) -> None:
        self.call(self.sim.accept_connections())

    def set_farm(self, code: int, farm: str) -> None:
        self.call(self.sim.set_farm(code, farm))

    def set_connectivity(self, code: int) -> None:
        self.call(self.sim.set_connectivity(code))

    def login_phase(self, seconds: float) -> None:
        self.call(self.sim.login_phase(seconds))

    def second_factor_pending(self) -> None:
        self.call(self.sim.second_factor_pending())

    def approve_second_factor(self) -> None:
        self.call(self.sim.approve_second_factor())

    def restart(self, seconds: float = 1.0) -> None:
        self.call(self.sim.restart(seconds))

    def trigger_order(self, order_id: int) -> bool:
        return self.call(self.sim.trigger_order(order_id))

    def status(self) -> dict[str, Any]:
        return self.call(self.sim.status())


async def _snapshot(items: Any) -> list[Any]:
    return list(items)
