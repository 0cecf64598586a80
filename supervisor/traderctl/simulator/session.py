"""One API client connection: handshake, framing loop and request dispatch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import accountreqs, lookups
from ._log import get_logger
from .clock import connection_time, utcnow
from .pacing import MessageRate
from .protocol import (
    API_SIGNATURE,
    ProtocolError,
    VersionMismatch,
    encode_message,
    negotiate_version,
    parse_client_versions,
    parse_length,
    split_fields,
)

if TYPE_CHECKING:
    from .server import SimTWS

log = get_logger(__name__)

MAX_FRAME = 16 * 1024 * 1024
HIGH_WATER = 1 << 20


# request ids TWS knows but the simulator does not serve: name, position of reqId (0: none)
UNSUPPORTED: dict[int, tuple[str, int]] = {
    10: ("reqMktDepth", 2),
    12: ("reqNewsBulletins", 0),
    18: ("requestFA", 0),
    19: ("replaceFA", 0),
    21: ("exerciseOptions", 2),
    22: ("reqScannerSubscription", 1),
    24: ("reqScannerParameters", 0),
    52: ("reqFundamentalData", 2),
    54: ("calculateImpliedVolatility", 2),
    55: ("calculateOptionPrice", 2),
    65: ("queryDisplayGroups", 2),
    79: ("reqSoftDollarTiers", 1),
    80: ("reqFamilyCodes", 0),
    82: ("reqMktDepthExchanges", 0),
    83: ("reqSmartComponents", 1),
    84: ("reqNewsArticle", 1),
    85: ("reqNewsProviders", 0),
    86: ("reqHistoricalNews", 1),
    88: ("reqHistogramData", 1),
    90: ("reqHistoricalTicks", 1),
    100: ("reqWshMetaData", 1),
    101: ("reqWshEventData", 1),
    104: ("reqUserInfo", 1),
}


@dataclass(frozen=True)
class RequestRecord:
    """One message received from a client (for tests and the control channel)."""

    at: datetime
    client_id: int | None
    msg_id: int
    name: str
    fields: tuple[str, ...]


class ClientSession:
    """Serves one TCP connection until the peer or the simulator closes it."""

    def __init__(
        self, sim: SimTWS, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.client_id: int | None = None
        self.version = sim.server_version
        self.ready = False
        self._out: list[bytes] = []
        self._flush_pending = False
        self.market_data_type = 1
        self.positions_subscribed = False
        self.account_updates: str | None = None
        self.account_values_sent: dict[str, str] = {}
        self.closed = False
        self.rate = MessageRate(sim.time_scale, sim.limits)
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.handlers = self._handler_table()

    def _handler_table(self) -> dict[int, tuple[str, Callable[[list[str]], Any]]]:
        """Request message id -> (TWS API name, handler)."""
        return {
            71: ("startApi", self.on_start_api),
            49: ("reqCurrentTime", self.on_current_time),
            8: ("reqIds", self.on_req_ids),
            17: ("reqManagedAccts", self.on_managed_accounts),
            61: ("reqPositions", lambda f: accountreqs.positions(self, f)),
            64: ("cancelPositions", lambda f: accountreqs.cancel_positions(self, f)),
            5: ("reqOpenOrders", lambda f: accountreqs.open_orders(self, f)),
            16: ("reqAllOpenOrders", lambda f: accountreqs.all_open_orders(self, f)),
            15: ("reqAutoOpenOrders", self.on_ignore),
            99: ("reqCompletedOrders", lambda f: accountreqs.completed_orders(self, f)),
            6: ("reqAccountUpdates", lambda f: accountreqs.account_updates(self, f)),
            76: ("reqAccountUpdatesMulti", lambda f: accountreqs.account_updates_multi(self, f)),
            77: ("cancelAccountUpdatesMulti", self.on_ignore),
            62: ("reqAccountSummary", lambda f: accountreqs.account_summary(self, f)),
            63: ("cancelAccountSummary", self.on_ignore),
            7: ("reqExecutions", lambda f: accountreqs.executions(self, f)),
            9: ("reqContractDetails", lambda f: lookups.contract_details(self, f)),
            81: ("reqMatchingSymbols", lambda f: lookups.matching_symbols(self, f)),
            78: ("reqSecDefOptParams", lambda f: lookups.sec_def_opt_params(self, f)),
            91: ("reqMarketRule", lambda f: lookups.market_rule_request(self, f)),
            20: ("reqHistoricalData", lambda f: lookups.historical_data(self, f)),
            25: ("cancelHistoricalData", lambda f: self.sim.live.cancel(self, int(f[2]))),
            97: ("reqTickByTickData", lambda f: self.sim.live.tick_by_tick(self, f)),
            98: ("cancelTickByTickData", lambda f: self.sim.live.cancel(self, int(f[1]))),
            50: ("reqRealTimeBars", lambda f: self.sim.live.realtime_bars(self, f)),
            51: ("cancelRealTimeBars", lambda f: self.sim.live.cancel(self, int(f[2]))),
            87: ("reqHeadTimeStamp", lambda f: lookups.head_timestamp(self, f)),
            3: ("placeOrder", self.on_place_order),
            4: ("cancelOrder", self.on_cancel_order),
            58: ("reqGlobalCancel", self.on_global_cancel),
            59: ("reqMarketDataType", self.on_market_data_type),
            1: ("reqMktData", self.on_mkt_data),
            92: ("reqPnL", lambda f: self.sim.pnl.request(self, f, single=False)),
            93: ("cancelPnL", lambda f: self.sim.pnl.cancel(self, f)),
            94: ("reqPnLSingle", lambda f: self.sim.pnl.request(self, f, single=True)),
            95: ("cancelPnLSingle", lambda f: self.sim.pnl.cancel(self, f)),
            2: ("cancelMktData", self.on_cancel_mkt_data),
        }

    # ---- transport ---------------------------------------------------------------

    def send(self, fields: list[Any]) -> None:
        self.send_raw(encode_message(fields))

    def send_raw(self, frame: bytes) -> None:
        """Queue an already framed message; written in one go at the end of this loop turn."""
        if not self.closed:
            self._out.append(frame)
            self._flush_soon()

    def send_frames(self, frames: list[bytes]) -> None:
        """Queue several framed messages (one pass of market data)."""
        if not self.closed:
            self._out.extend(frames)
            self._flush_soon()

    def _flush_soon(self) -> None:
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write every queued message (one syscall instead of one per message)."""
        self._flush_pending = False
        if self._out and not self.closed:
            self.writer.write(b"".join(self._out))
        self._out.clear()

    def error(self, req_id: int, code: int, message: str) -> None:
        self.send([4, 2, req_id, code, message, ""])

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True
            self.writer.close()

    async def _read_frame(self) -> list[str]:
        size = parse_length(await self.reader.readexactly(4))
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes")
        return split_fields(await self.reader.readexactly(size))

    # ---- lifecycle ---------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._handshake()
            while not self.closed:
                fields = await self._read_frame()
                await self._handle(fields)
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            log.debug(
                "sim_tws_client_gone", peer=self.peer, client_id=self.client_id, reason=repr(exc)
            )
        finally:
            self.close()
            self.sim.forget(self)
            self.sim.feed.drop_session(self)
            self.sim.live.drop_session(self)
            log.info("sim_tws_client_disconnected", peer=self.peer, client_id=self.client_id)

    async def _handshake(self) -> None:
        if await self.reader.readexactly(4) != API_SIGNATURE:
            raise ProtocolError("missing API signature")
        size = parse_length(await self.reader.readexactly(4))
        lo, hi, options = parse_client_versions((await self.reader.readexactly(size)).decode())
        await self.sim.faults.gate()
        try:
            self.version = negotiate_version(self.sim.server_version, lo, hi)
        except VersionMismatch as exc:
            # answer in the client's own version so it can read the error, then close
            self.send([hi, connection_time(utcnow(), self.sim.tz)])
            self.error(-1, 502, f"Couldn't connect to TWS. {exc}")
            log.warning("sim_tws_version_refused", peer=self.peer, offered=f"{lo}..{hi}")
            self.flush()
            await self.writer.drain()
            raise
        self.send([self.version, connection_time(utcnow(), self.sim.tz)])
        log.info(
            "sim_tws_client_connected", peer=self.peer, server_version=self.version, options=options
        )

    async def _handle(self, fields: list[str]) -> None:
        over = self.rate.hit()
        if over:
            self.error(
                -1,
                100,
                f"Max rate of messages per second has been exceeded:max=50 rec={over} (001)",
            )
            log.warning("sim_tws_rate_exceeded", client_id=self.client_id, count=over)
            self.flush()
            await self.writer.drain()
            self.close()
            return
        await self.sim.faults.gate()
        if self.closed:
            return
        try:
            msg_id = int(fields[0])
        except (ValueError, IndexError):
            raise ProtocolError(f"bad message id in {fields[:2]}") from None
        name, handler = self.handlers.get(msg_id, ("unknown", self.on_unknown))
        self.sim.record(RequestRecord(utcnow(), self.client_id, msg_id, name, tuple(fields)))
        try:
            handler(fields)
        except (ValueError, IndexError, KeyError, ArithmeticError, AttributeError) as exc:
            # a malformed request (or a simulator bug) answers an error; the connection lives on
            log.error("sim_tws_request_failed", msg_id=msg_id, name=name, error=repr(exc))
            self.error(-1, 322, f"Error processing request.-'{msg_id}' : cause - {exc!r}")
        if self.writer.transport.get_write_buffer_size() > HIGH_WATER:
            self.flush()
            await self.writer.drain()

    # ---- connection and account sync -----------------------------------------------

    def on_start_api(self, f: list[str]) -> None:
        client_id = int(f[2]) if len(f) > 2 and f[2] else 0
        if not self.sim.claim_client_id(client_id, self):
            self.error(
                -1,
                326,
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id.",
            )
            log.warning("sim_tws_duplicate_client_id", client_id=client_id, peer=self.peer)
            self.close()
            return
        self.client_id = client_id
        self.ready = True
        self.send([15, 1, ",".join(self.sim.book.accounts)])
        self.send([9, 1, self.sim.next_order_id])
        for code, text in self.sim.faults.farm_codes():
            self.error(-1, code, text)
        if self.sim.faults.connectivity == 1100:
            self.error(-1, 1100, self.sim.connectivity_text(1100))

    def on_current_time(self, f: list[str]) -> None:
        self.send([49, 1, int(utcnow().timestamp())])

    def on_req_ids(self, f: list[str]) -> None:
        self.send([9, 1, self.sim.next_order_id])

    def on_managed_accounts(self, f: list[str]) -> None:
        self.send([15, 1, ",".join(self.sim.book.accounts)])

    def on_ignore(self, f: list[str]) -> None:
        """Acknowledged without a reply, as TWS does for these cancels/settings."""

    def on_unknown(self, f: list[str]) -> None:
        """Never silence: a known request the simulator lacks gets 322, an unknown id 505."""
        msg_id = int(f[0])
        known = UNSUPPORTED.get(msg_id)
        log.info("sim_tws_unhandled_message", msg_id=msg_id, client_id=self.client_id)
        if known is None:
            self.error(-1, 505, f"Fatal Error: Unknown message id {msg_id}.")
            return
        name, pos = known
        req_id = int(f[pos]) if pos and len(f) > pos and f[pos].lstrip("-").isdigit() else -1
        self.error(
            req_id,
            322,
            f"Error processing request.-'{msg_id}' : cause - {name} is not "
            "supported by the simulated TWS",
        )

    # ---- market data ----------------------------------------------------------------

    def on_mkt_data(self, f: list[str]) -> None:
        self.sim.feed.request(self, f)

    def on_cancel_mkt_data(self, f: list[str]) -> None:
        self.sim.feed.cancel(self, int(f[2]))

    def on_market_data_type(self, f: list[str]) -> None:
        wanted = int(f[2]) if len(f) > 2 and f[2].isdigit() else 0
        if wanted not in (1, 2, 3, 4):
            self.error(
                -1, 321, f"Error validating request.-'bN' : cause - market data type {wanted}"
            )
            return
        self.market_data_type = wanted

    # ---- orders ---------------------------------------------------------------------

    def on_place_order(self, f: list[str]) -> None:
        self.sim.place_order(self, f)

    def on_cancel_order(self, f: list[str]) -> None:
        self.sim.cancel_order(self, int(f[2]))

    def on_global_cancel(self, f: list[str]) -> None:
        for rec in self.sim.live_orders():
            self.sim.cancel_order(self, rec.order_id, rec.client_id)
