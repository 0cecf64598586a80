"""PriceFeed: one WebSocket connection to the venue, shared by every consumer in the process.

It connects with the REST client's headers, keeps ``tradable_instruments`` up to date,
correlates subscribe/unsubscribe acks by ``tag``, routes price frames by the subscription
they belong to (instrument + levels; :mod:`traderctl_b2c2.routing`) and fans them out
(:mod:`traderctl_b2c2.fanout`).
The connection is kept alive with WebSocket pings; a stream silent for ``stale_after``
seconds is reconnected. Every reconnect backs off exponentially and resubscribes
everything. What happens is reported as traderctl events through ``on_event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from traderctl.events import Event
from traderctl.logs import get_logger
from traderctl_b2c2.errors import StreamError, Unauthorized
from traderctl_b2c2.fanout import Consumer, Key, Subscription, subscription_key
from traderctl_b2c2.identity import user_agent
from traderctl_b2c2.routing import Router

log = get_logger(__name__)
# Frames websockets may hold before our reader takes them; beyond it TCP pushes back on the
# venue instead of this process buffering without bound when it is starved of CPU.
RECEIVE_QUEUE = 64


class Stale(Exception):
    """No price for ``stale_after`` seconds while subscribed."""


class PriceFeed:
    def __init__(self, ws_url: str, api_key: str, *, stale_after: float = 30.0,
                 ping_interval: float = 10.0, queue_size: int = 16,
                 backoff: tuple[float, float] = (0.2, 10.0), ack_timeout: float = 10.0,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.ws_url = ws_url
        self._api_key = api_key
        self.stale_after, self.ping_interval = stale_after, ping_interval
        self.queue_size, self.backoff, self.ack_timeout = queue_size, backoff, ack_timeout
        self.on_event = on_event
        self.router = Router(self._emit)
        self.connects = 0
        self._ws: ClientConnection | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_connect_ok = False
        self._closing = False

    def __repr__(self) -> str:  # never the key
        return f"PriceFeed({self.ws_url!r})"

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, wait: float | None = None) -> PriceFeed:
        """Start the connection task; with ``wait``, until connected (or raise)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="b2c2-price-feed")
        if wait is not None:
            await self.wait_connected(wait)
        return self

    async def wait_connected(self, timeout: float) -> None:
        connected = asyncio.ensure_future(self.router.connected.wait())
        assert self._task is not None
        await asyncio.wait({connected, self._task}, timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
        connected.cancel()
        if self.router.fatal is not None:
            raise self.router.fatal
        if not self.router.connected.is_set():
            raise TimeoutError(f"no connection to {self.ws_url} within {timeout:g}s")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 2)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for sub in self.router.subscriptions.values():
            sub.fail(ConnectionError("price feed closed"))

    async def __aenter__(self) -> PriceFeed:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self.router.connected.is_set()

    @property
    def subscriptions(self) -> dict[Key, Subscription]:
        return self.router.subscriptions

    @property
    def tradable_instruments(self) -> set[str]:
        return self.router.tradable_instruments

    @property
    def username(self) -> str | None:
        return self.router.username

    # -- consumers --------------------------------------------------------------------------

    async def subscribe(self, instrument: str, levels: Sequence[Decimal | int | str | float],
                        queue_size: int | None = None) -> Consumer:
        """A consumer of (instrument, levels); the venue subscription is shared, made (and
        acknowledged) by the first consumer. Raises StreamError if the venue refuses."""
        if self.router.fatal is not None:
            raise self.router.fatal
        key = subscription_key(instrument, levels)
        consumer = Consumer(key, queue_size or self.queue_size, self._leave)
        async with self._lock:
            sub = self.router.subscriptions.get(key)
            if sub is None:
                sub = self.router.subscriptions[key] = Subscription(key)
                await self._send_subscribe(sub)
            sub.consumers.add(consumer)
        try:
            await asyncio.wait_for(asyncio.shield(sub.acked), self.ack_timeout)
        except BaseException:
            await consumer.close()
            raise
        return consumer

    async def _leave(self, consumer: Consumer) -> None:
        async with self._lock:
            sub = self.router.subscriptions.get(consumer.key)
            if sub is None or consumer not in sub.consumers:
                return
            sub.consumers.discard(consumer)
            if sub.consumers:
                return
            del self.router.subscriptions[consumer.key]
            if sub.tag:
                self.router.tags.pop(sub.tag, None)
            if sub.acked.done() and sub.acked.exception() is None:
                await self._send_unsubscribe(sub)

    async def _send_subscribe(self, sub: Subscription) -> None:
        sub.tag = str(uuid.uuid4())
        self.router.tags[sub.tag] = sub
        if self._ws is not None:
            await self._send(sub.frame())

    async def _send_unsubscribe(self, sub: Subscription) -> None:
        if self._ws is None:
            return  # the next connection simply does not resubscribe it
        tag = str(uuid.uuid4())
        done = self.router.unsubscribing[tag] = asyncio.get_running_loop().create_future()
        frame = {**sub.frame(), "event": "unsubscribe", "tag": tag}
        try:
            await self._send(frame)
            await asyncio.wait_for(done, self.ack_timeout)
        except (TimeoutError, ConnectionError, StreamError) as exc:
            log.warning("b2c2_unsubscribe_unconfirmed", instrument=sub.key[0], error=str(exc))
        finally:
            self.router.unsubscribing.pop(tag, None)

    async def _send(self, frame: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            raise ConnectionError("not connected")
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise ConnectionError(str(exc)) from None

    # -- the connection ---------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._api_key}", "X-Request-ID": str(uuid.uuid4())}

    async def _run(self) -> None:
        attempt = 0
        while True:
            reason = await self._connect_once()
            if self._closing:
                return
            if self.router.fatal is not None:
                for sub in self.router.subscriptions.values():
                    sub.fail(self.router.fatal)
                return
            if self.connects and self._last_connect_ok:
                attempt = 0
            delay = min(self.backoff[0] * 2 ** attempt, self.backoff[1])
            attempt += 1
            self._emit("b2c2_stream_disconnected", reason=reason, retry_in=round(delay, 3))
            await asyncio.sleep(delay)

    async def _connect_once(self) -> str:
        self._last_connect_ok = False
        try:
            async with connect(self.ws_url, additional_headers=self.headers(),
                               user_agent_header=user_agent(), open_timeout=self.ack_timeout,
                               ping_interval=self.ping_interval,
                               ping_timeout=self.ping_interval, close_timeout=self.ping_interval,
                               max_queue=RECEIVE_QUEUE,
                               proxy=None) as ws:
                self._ws = ws
                await self._on_connected()
                await self._read(ws)
                return "closed by venue"
        except asyncio.CancelledError:
            if self._ws is not None:  # cancelled mid-close: do not leak the socket
                self._ws.transport.abort()
            raise
        except Stale as exc:
            return f"stale: {exc}"
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                self.router.fatal = Unauthorized(f"WebSocket refused: HTTP {status}", status=status)
            return f"HTTP {status}"
        except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            self._ws = None
            self.router.connected.clear()
            self._fail_pending_unsubscribes()

    async def _on_connected(self) -> None:
        self.connects += 1
        self._last_connect_ok = True
        self.router.last_price = time.monotonic()
        self._emit("b2c2_stream_connected", url=self.ws_url, connects=self.connects)
        async with self._lock:
            self.router.tags.clear()
            subs = list(self.router.subscriptions.values())
            for sub in subs:
                await self._send_subscribe(sub)
        if subs and self.connects > 1:
            self._emit("b2c2_stream_resubscribed", subscriptions=len(subs))

    def _fail_pending_unsubscribes(self) -> None:
        for future in self.router.unsubscribing.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))

    async def _read(self, ws: ClientConnection) -> None:
        while True:
            timeout = None
            if self.router.subscriptions:
                timeout = max(self.router.last_price + self.stale_after - time.monotonic(), 0.0)
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout)
            except TimeoutError:
                if not self.router.subscriptions:
                    continue
                silent = time.monotonic() - self.router.last_price
                self._emit("b2c2_stream_stale", silent_for=round(silent, 3),
                           subscriptions=len(self.router.subscriptions))
                raise Stale(f"no price for {silent:.1f}s") from None
            self.router.dispatch(raw)
            if self.router.fatal is not None:
                return

    def _emit(self, name: str, **fields: Any) -> None:
        getattr(log, "warning" if "stale" in name or "error" in name else "info")(name, **fields)
        if self.on_event is not None:
            self.on_event(Event(name, {"url": self.ws_url, **fields}))
