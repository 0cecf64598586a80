"""The fake venue's WebSocket side (``/quotes``): subscriptions and their price streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from traderctl_b2c2.sim import prices
from traderctl_b2c2.sim.faults import Faults
from traderctl_b2c2.sim.state import VenueState

MAX_LEVELS = 4
Key = tuple[str, tuple[Decimal, ...]]


def error(event: str, code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"event": event, "success": False, "error_code": code, "error_message": message,
            **extra}


class Session:
    """One client connection: its subscriptions, each with a task sending prices."""

    def __init__(self, ws: ServerConnection, state: VenueState, faults: Faults,
                 interval: float, stamp: bool) -> None:
        self.ws, self.state, self.faults = ws, state, faults
        self.interval, self.stamp = interval, stamp
        self.streams: dict[Key, asyncio.Task[None]] = {}

    async def run(self) -> None:
        header = self.ws.request.headers.get("Authorization") if self.ws.request else None
        if not header:
            await self.send(error("authentication", 3001, "Authorization not in headers."))
            return
        scheme, _, token = header.partition(" ")
        if scheme != "Token" or token not in self.state.accounts:
            code = 3017 if scheme != "Token" else 3000
            await self.send(error("authentication", code, "Authentication failure."))
            return
        await self.send({"event": "tradable_instruments", "success": True,
                         "tradable_instruments": sorted({prices.underlier(i)
                                                         for i in self.state.instruments})})
        try:
            async for raw in self.ws:
                await self.on_message(raw)
        finally:
            for task in self.streams.values():
                task.cancel()
            for task in self.streams.values():
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def send(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    async def on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            await self.send(error("error", 3005, "Unable to JSON-parse message."))
            return
        if not isinstance(message, dict):
            await self.send(error("error", 3011, "Invalid message."))
        elif message.get("event") == "subscribe":
            await self.subscribe(message)
        elif message.get("event") == "unsubscribe":
            await self.unsubscribe(message)
        else:
            await self.send(error(str(message.get("event")), 3011, "Invalid message."))

    def _key(self, message: dict[str, Any]) -> Key | dict[str, Any]:
        instrument, tag = message.get("instrument"), message.get("tag")
        if not isinstance(instrument, str) or not instrument.endswith((".SPOT", ".CFD")):
            return error("subscribe", 3019, "Instrument does not end with SPOT or CFD.",
                         tag=tag)
        if instrument not in self.state.instruments:
            return error("subscribe", 3003, "Instrument not allowed.", tag=tag)
        try:
            levels = tuple(sorted(Decimal(str(q)) for q in message.get("levels") or []))
        except InvalidOperation:
            levels = ()
        if not levels or len(levels) > MAX_LEVELS or any(q <= 0 for q in levels):
            return error("subscribe", 3004, "Invalid subscription request.", tag=tag,
                         errors={"levels": [f"1 to {MAX_LEVELS} positive quantities."]})
        return instrument, levels

    async def subscribe(self, message: dict[str, Any]) -> None:
        key = self._key(message)
        if isinstance(key, dict):
            await self.send(key)
            return
        if key in self.streams:
            await self.send(error("subscribe", 3007, "Already subscribed.",
                                  tag=message.get("tag"), instrument=key[0]))
            return
        await self.send({**message, "success": True})
        self.streams[key] = asyncio.create_task(self.stream(key, message.get("tag")))

    async def unsubscribe(self, message: dict[str, Any]) -> None:
        instrument = message.get("instrument")
        levels = message.get("levels")
        keys = [k for k in self.streams if k[0] == instrument
                and (levels is None or k[1] == tuple(sorted(Decimal(str(q)) for q in levels)))]
        if not keys:
            await self.send(error("unsubscribe", 3008, "Not subscribed yet.",
                                  tag=message.get("tag"), instrument=instrument))
            return
        for key in keys:
            task = self.streams.pop(key)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.send({**message, "success": True})

    async def stream(self, key: Key, tag: Any) -> None:
        instrument, levels = key
        tick = 0
        while True:
            await asyncio.sleep(self.interval + self.faults.slow_frames)
            if self.faults.stop_pricing:
                continue
            if self.faults.cannot_quote:
                await self.send(error("price", 3013, "Not able to quote at the moment.",
                                      instrument=instrument, tag=tag))
                continue
            frame: dict[str, Any] = {
                "event": "price", "instrument": instrument, "success": True,
                "timestamp": int(time.time() * 1000),
                "levels": prices.frame_levels(instrument, list(levels), tick)}
            if self.stamp:
                frame["sent_ns"] = time.time_ns()
            tick += 1
            await self.send(frame)
