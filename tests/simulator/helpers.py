"""Shared helpers for the simulator tests (real ib_async over TCP, no mocks).

The ``sim_tws`` fixtures come from ``traderctl.pytest_plugin`` (pytest11 entry point).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from ib_async import IB


def run(coro: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
    """Run one async test body on a fresh loop (pytest-asyncio is not used)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def connected(sim: Any, client_id: int = 1, **kwargs: Any) -> AsyncIterator[IB]:
    """An ib_async client fully connected to the simulator, disconnected on exit."""
    ib = IB()
    kwargs.setdefault("timeout", 4)
    await ib.connectAsync(sim.host, sim.port, clientId=client_id, **kwargs)
    try:
        yield ib
    finally:
        ib.disconnect()


class ErrorLog:
    """Collects ib.errorEvent emissions as (reqId, code, message)."""

    def __init__(self, ib: IB) -> None:
        self.items: list[tuple[int, int, str]] = []
        ib.errorEvent += self.on_error

    def on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        self.items.append((req_id, code, message))

    def codes(self) -> list[int]:
        return [code for _, code, _ in self.items]

    async def wait_for(self, code: int, timeout: float = 2.0) -> tuple[int, int, str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for item in self.items:
                if item[1] == code:
                    return item
            await asyncio.sleep(0.01)
        raise AssertionError(f"error {code} not received; got {self.codes()}")


async def until(check: Any, timeout: float = 3.0) -> None:
    """Wait for ``check()`` to become true (polling), or fail the test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def apply(sim: Any, action: str, args: dict[str, Any]) -> Any:
    """A control action (PRICE, VOLUME, ...) run on the simulator's own thread and loop.

    Calling ``sim.sim.apply`` from the test's loop would move the market from
    the test thread while the simulator's thread computes quotes with it.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, sim.call, sim.sim.apply(action, args))


def open_market(factory: Any, **market: Any) -> Any:
    """A simulator whose market trades at any wall-clock time, quotes every 50 ms."""
    from traderctl.simulator.scenario import Scenario

    raw = {"market": {"always_open": True, "interval": 0.05, **market}}
    return factory(scenario=Scenario.from_dict(raw))
