"""The IB session as seen from outside: the API probe, the observer, IBC's progress lines.

* :class:`ApiProbe`: readiness and liveness. One connection on a reserved
  client id (``probe_client_id``), kept open between probes, and one
  ``reqCurrentTime`` per probe, all within ``timeout``. Any failure drops the
  connection, so the next probe also proves that TWS accepts new API clients.
  No historical-data probe (ib_async's Watchdog uses one: it spends pacing
  budget, needs HMDS permissions and fails inside IB's reset windows).
* :class:`SessionObserver`: a long-lived connection on a second reserved
  client id that listens to what TWS volunteers: data-farm codes 2103/2105/2157
  (broken) and 2104/2106/2158 (OK; 2107/2108 "inactive" count as OK),
  connectivity 1100 (lost), 2110 (TWS-server link broken), 1101/1102
  (restored), and the handshake's connection time, from which the TWS time
  zone is worked out (:mod:`traderctl.tws.tz`). It reconnects on its own.

IBC's own lines about the login are read by :mod:`traderctl.tws.ibclines`.

ib_async is imported inside the functions that use it (it is heavy), and its
loggers are replaced on our instances by a silent one: the events of the
driver already say what happened, once, in our words.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from traderctl.services.probes import ProbeResult
from traderctl.tws.tz import TwsTimeZone, resolve

QUIET_LOGGER = "traderctl.tws.ib_async"

FARM_BROKEN = {2103: "market", 2105: "hmds", 2157: "secdef"}
FARM_OK = {2104: "market", 2106: "hmds", 2158: "secdef", 2107: "hmds", 2108: "market"}
CONNECTIVITY_LOST = {1100, 2110}
CONNECTIVITY_RESTORED = {1101, 1102}


def quiet(ib: Any) -> None:
    """Route an IB instance's library logging to a silent logger."""
    logger = logging.getLogger(QUIET_LOGGER)
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    ib._logger = logger
    ib.client._logger = logger
    ib.wrapper._logger = logger
    ib.client.decoder.logger = logger


async def connect(ib: Any, host: str, port: int, client_id: int, within: float) -> None:
    """Light read-only connect: after startApi only positions are fetched (one reply)."""
    from ib_async import StartupFetchNONE

    await ib.connectAsync(host, port, clientId=client_id, timeout=within, readonly=True,
                          fetchFields=StartupFetchNONE)


def close(ib: Any) -> None:
    """Disconnect, whatever state the connection is in (connecting included)."""
    if ib is None:
        return
    ib.disconnect()
    ib.client.disconnect()


class HandshakeSnoop:
    """Reads the handshake reply (``serverVersion``, ``connectionTime``) ib_async discards.

    Connected to the socket's ``hasData`` event next to ib_async's own reader,
    with its own buffer; it stops looking after the first frame.
    """

    def __init__(self) -> None:
        self._buf = b""
        self.done = False
        self.connection_time: str | None = None

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        self._buf += data
        if len(self._buf) < 4:
            return
        (size,) = struct.unpack(">I", self._buf[:4])
        if len(self._buf) < 4 + size:
            return
        fields = self._buf[4:4 + size].decode(errors="replace").split("\0")
        if fields and fields[-1] == "":
            fields.pop()
        if len(fields) == 2:
            self.connection_time = fields[1]
        self.done = True
        self._buf = b""


class ApiProbe:
    """``reqCurrentTime`` on a reserved client id within ``timeout``; see the module doc."""

    def __init__(self, host: str, port: int, client_id: int, timeout: float) -> None:
        self.host, self.port, self.client_id, self.timeout = host, port, client_id, timeout
        self.kind = "none"  # ok | refused | timeout | error | none
        self.last_ok_at: float | None = None
        self._ib: Any = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def check(self) -> ProbeResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                if self._ib is None or not self._ib.isConnected():
                    self.close()
                    from ib_async import IB

                    self._ib = IB()
                    quiet(self._ib)
                    await connect(self._ib, self.host, self.port, self.client_id, self.timeout)
                await self._ib.reqCurrentTimeAsync()
        except TimeoutError:
            return self._failed("timeout", f"API {self.where} did not answer within "
                                           f"{self.timeout:g}s")
        except ConnectionRefusedError:
            return self._failed("refused", f"API {self.where} refuses connections")
        except (OSError, ConnectionError) as exc:
            return self._failed("error", f"API {self.where}: {exc or type(exc).__name__}")
        except asyncio.CancelledError:
            self.close()
            raise
        self.kind = "ok"
        self.last_ok_at = time.monotonic()
        elapsed = (time.monotonic() - started) * 1000
        return ProbeResult(True, f"api accepting (answered in {elapsed:.0f} ms)")

    def _failed(self, kind: str, detail: str) -> ProbeResult:
        self.kind = kind
        self.close()
        return ProbeResult(False, detail)

    def close(self) -> None:
        ib, self._ib = self._ib, None
        close(ib)


@dataclass
class Farm:
    name: str
    kind: str  # market | hmds | secdef
    ok: bool
    code: int
    since: float  # monotonic


@dataclass
class Connectivity:
    ok: bool = True
    code: int | None = None
    text: str = ""
    since: float = 0.0  # monotonic


class SessionObserver:
    """A long-lived API connection that records farm, connectivity and time-zone facts.

    ``on_change(kind, fields)`` is called (in the loop) for ``farm``,
    ``connectivity``, ``timezone``, ``connected`` and ``disconnected``.
    """

    def __init__(self, host: str, port: int, client_id: int, timeout: float, retry: float,
                 on_change: Callable[[str, dict[str, Any]], None]) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.timeout, self.retry = timeout, retry
        self.on_change = on_change
        self.farms: dict[str, Farm] = {}
        self.connectivity = Connectivity()
        self.timezone: TwsTimeZone | None = None
        self.server_version: int | None = None
        self.connected = False
        self._ib: Any = None

    def broken_farms(self) -> list[Farm]:
        return [f for f in self.farms.values() if not f.ok]

    async def run(self) -> None:
        """Connect, listen until disconnected, wait ``retry``, again; until cancelled."""
        try:
            while True:
                await self._session()
                await asyncio.sleep(self.retry)
        finally:
            self.close()

    async def _session(self) -> None:
        from ib_async import IB

        ib = self._ib = IB()
        quiet(ib)
        snoop = HandshakeSnoop()
        gone = asyncio.Event()
        ib.client.conn.hasData += snoop.feed
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += lambda *_: gone.set()
        self.farms.clear()
        try:
            async with asyncio.timeout(self.timeout * 2):
                await connect(ib, self.host, self.port, self.client_id, self.timeout)
                server_time = await ib.reqCurrentTimeAsync()
        except (TimeoutError, OSError, ConnectionError):
            self.close()
            return
        finally:
            ib.client.conn.hasData -= snoop.feed
        self.connected = True
        self.server_version = ib.client.serverVersion()
        self.on_change("connected", {"server_version": self.server_version})
        self._learn_timezone(snoop.connection_time, server_time)
        try:
            await gone.wait()
        finally:
            self.connected = False
            self.close()
        self.on_change("disconnected", {})

    def _learn_timezone(self, connection_time: str | None, server_time: datetime) -> None:
        if not connection_time:
            return
        try:
            found = resolve(connection_time, server_time.astimezone(UTC))
        except ValueError:
            return
        if found != self.timezone:
            self.timezone = found
            self.on_change("timezone", found.to_json())

    def _on_error(self, req_id: int, code: int, text: str, *_: Any) -> None:
        now = time.monotonic()
        if code in FARM_BROKEN or code in FARM_OK:
            name = farm_name(text)
            ok = code in FARM_OK
            kind = FARM_OK.get(code) or FARM_BROKEN[code]
            old = self.farms.get(name)
            if old is None or old.ok != ok:
                self.farms[name] = Farm(name, kind, ok, code, now)
                self.on_change("farm", {"farm": name, "kind": kind, "ok": ok, "code": code})
            else:
                old.code = code
        elif code in CONNECTIVITY_LOST or code in CONNECTIVITY_RESTORED:
            ok = code in CONNECTIVITY_RESTORED
            changed = ok != self.connectivity.ok
            self.connectivity = Connectivity(ok, code, text,
                                             now if changed else self.connectivity.since)
            self.on_change("connectivity", {"ok": ok, "code": code, "text": text})

    def close(self) -> None:
        ib, self._ib = self._ib, None
        close(ib)


def farm_name(text: str) -> str:
    """``Market data farm connection is OK:usfarm`` -> ``usfarm`` (2107/2108 end in ``.name``)."""
    text = text.strip()
    if ":" in text:
        return text.rsplit(":", 1)[1].strip() or text
    if "." in text:
        return text.rsplit(".", 1)[1].strip() or text
    return text
