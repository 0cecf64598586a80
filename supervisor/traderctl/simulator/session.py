"""One API client connection: handshake, framing loop and request dispatch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import account, details, history, orders
from ._log import get_logger
from .clock import connection_time, utcnow
from .marketrules import market_rule
from .openorder import COMPLETED_ORDERS_END, OPEN_ORDER_END
from .pacing import SMALL_BAR_SECONDS, MessageRate
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
from .universe import AmbiguousContract, ContractQuery, Listing

if TYPE_CHECKING:
    from .server import SimTWS

log = get_logger(__name__)

MAX_FRAME = 16 * 1024 * 1024
HIGH_WATER = 1 << 20
PACING_TEXT = history.HMDS + "Historical data request pacing violation"
TOO_MANY_TEXT = (
    "Error processing request.-'bX' : cause - "
    "Only 50 simultaneous API historical data requests allowed."
)
NO_SECDEF = "No security definition has been found for the request"


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
        self.handlers: dict[int, tuple[str, Callable[[list[str]], Any]]] = {
            71: ("startApi", self.on_start_api),
            49: ("reqCurrentTime", self.on_current_time),
            8: ("reqIds", self.on_req_ids),
            17: ("reqManagedAccts", self.on_managed_accounts),
            61: ("reqPositions", self.on_positions),
            64: ("cancelPositions", self.on_cancel_positions),
            5: ("reqOpenOrders", self.on_open_orders),
            16: ("reqAllOpenOrders", self.on_all_open_orders),
            15: ("reqAutoOpenOrders", self.on_ignore),
            99: ("reqCompletedOrders", self.on_completed_orders),
            6: ("reqAccountUpdates", self.on_account_updates),
            76: ("reqAccountUpdatesMulti", self.on_account_updates_multi),
            77: ("cancelAccountUpdatesMulti", self.on_ignore),
            62: ("reqAccountSummary", self.on_account_summary),
            63: ("cancelAccountSummary", self.on_ignore),
            7: ("reqExecutions", self.on_executions),
            9: ("reqContractDetails", self.on_contract_details),
            81: ("reqMatchingSymbols", self.on_matching_symbols),
            78: ("reqSecDefOptParams", self.on_sec_def_opt_params),
            91: ("reqMarketRule", self.on_market_rule),
            20: ("reqHistoricalData", self.on_historical_data),
            25: ("cancelHistoricalData", lambda f: self.sim.live.cancel(self, int(f[2]))),
            97: ("reqTickByTickData", lambda f: self.sim.live.tick_by_tick(self, f)),
            98: ("cancelTickByTickData", lambda f: self.sim.live.cancel(self, int(f[1]))),
            50: ("reqRealTimeBars", lambda f: self.sim.live.realtime_bars(self, f)),
            51: ("cancelRealTimeBars", lambda f: self.sim.live.cancel(self, int(f[2]))),
            87: ("reqHeadTimeStamp", self.on_head_timestamp),
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
        if self.closed:
            return
        self._out.append(frame)
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

    def on_positions(self, f: list[str]) -> None:
        self.positions_subscribed = True
        self._send_rows(account.position_rows(self.sim.book))

    def on_cancel_positions(self, f: list[str]) -> None:
        self.positions_subscribed = False

    def on_open_orders(self, f: list[str]) -> None:
        self._send_open_orders(only_mine=True)

    def on_all_open_orders(self, f: list[str]) -> None:
        self._send_open_orders(only_mine=False)

    def _send_open_orders(self, only_mine: bool) -> None:
        for rec in self.sim.live_orders():
            if not only_mine or rec.client_id == self.client_id:
                self.send(self.sim.open_order_fields(rec, self.version))
                self.send(orders.order_status(rec))
        self.send([OPEN_ORDER_END, 1])

    def on_completed_orders(self, f: list[str]) -> None:
        # apiOnly (f[1]) changes nothing: every order here came through the API
        for rec in self.sim.orders:
            if rec.is_done and rec.status != "PendingSubmit":
                self.send(self.sim.order_book.completed_fields(rec, self.version))
        self.send([COMPLETED_ORDERS_END])

    def on_account_updates(self, f: list[str]) -> None:
        subscribe = len(f) > 2 and f[2] not in ("", "0")
        acct = f[3] if len(f) > 3 and f[3] else self.sim.book.accounts[0]
        self.account_updates = acct if subscribe else None
        if subscribe:
            self.account_values_sent = {k: v for k, (v, _) in self.sim.book.all_values().items()}
            self._send_rows(
                account.account_update_rows(
                    self.sim.book, acct, self.sim.last_price, utcnow(), self.sim.tz
                )
            )

    def on_account_updates_multi(self, f: list[str]) -> None:
        acct = f[3] if len(f) > 3 and f[3] else self.sim.book.accounts[0]
        self._send_rows(account.account_multi_rows(self.sim.book, int(f[2]), acct))

    def on_account_summary(self, f: list[str]) -> None:
        tags = f[4] if len(f) > 4 else "All"
        self._send_rows(account.account_summary_rows(self.sim.book, int(f[2]), tags))

    def on_executions(self, f: list[str]) -> None:
        self._send_rows(account.execution_rows(self.sim.book, int(f[2]), self.sim.tz, self.version))

    def _send_rows(self, rows: list[list[Any]]) -> None:
        for row in rows:
            self.send(row)

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

    # ---- contracts ------------------------------------------------------------------

    def on_contract_details(self, f: list[str]) -> None:
        req_id = int(f[2])
        query = ContractQuery.from_fields(f[3:15])
        try:
            matches = self.sim.universe.resolve(query)
        except AmbiguousContract:
            self.error(
                req_id, 200, f"The contract description specified for {query.symbol} is ambiguous."
            )
            return
        if not matches:
            self.error(req_id, 200, NO_SECDEF)
            return
        now = utcnow()
        for match in matches:
            self.send_raw(details.contract_details(req_id, match, now))
        self.send(details.contract_details_end(req_id))

    def on_matching_symbols(self, f: list[str]) -> None:
        req_id = int(f[1])
        pattern = f[2] if len(f) > 2 else ""
        self.send(details.symbol_samples(req_id, self.sim.universe.matching_symbols(pattern)))

    def on_sec_def_opt_params(self, f: list[str]) -> None:
        """[78, reqId, underlyingSymbol, futFopExchange, underlyingSecType, underlyingConId]."""
        req_id = int(f[1])
        symbol = f[2] if len(f) > 2 else ""
        under_con_id = int(f[5] or 0) if len(f) > 5 and f[5].lstrip("-").isdigit() else 0
        chain = [
            lst
            for lst in self.sim.universe.by_symbol_type.get((symbol.upper(), "OPT"), [])
            if not under_con_id or lst.under_con_id == under_con_id
        ]
        if chain:
            expiries = sorted({lst.last_trade for lst in chain})
            strikes = sorted({lst.strike for lst in chain})
            first = chain[0]
            for exchange in first.valid_exchanges:
                head = [75, req_id, exchange, first.under_con_id, first.trading_class, "100"]
                self.send([*head, len(expiries), *expiries, len(strikes), *strikes])
        self.send([76, req_id])

    def on_market_rule(self, f: list[str]) -> None:
        rule_id = int(f[1]) if len(f) > 1 and f[1].isdigit() else -1
        fields = market_rule(rule_id)
        if fields is None:
            self.error(-1, 321, f"Error validating request.-'cd' : cause - market rule {rule_id}")
            return
        self.send(fields)

    # ---- historical data ------------------------------------------------------------

    def on_historical_data(self, f: list[str]) -> None:
        req = history.HistRequest.from_fields(f)
        listing = self.sim.universe.resolve_one(req.contract)
        if listing is None:
            self.error(req.req_id, 200, NO_SECDEF)
            return
        now = utcnow()
        pacer = self.sim.pacer
        try:
            step, _, _, _ = history.validate(req, self.sim.tz, now)
            weight = 2 if req.what == "BID_ASK" else 1
            if step <= SMALL_BAR_SECONDS:
                self._hard_pacing(req, listing, weight)
                hold = 0.0
            elif pacer.at_capacity():
                raise history.HistoryError(322, TOO_MANY_TEXT)
            else:
                hold = pacer.soft_hold(weight)
            fields = history.build_bars(req, listing, self.sim.model(listing), self.sim.tz, now)
        except history.HistoryError as exc:
            self.error(req.req_id, exc.code, exc.message)
            return
        if hold:
            pacer.held += 1
            self.sim.spawn(self._send_later(hold, fields))
        else:
            self.send(fields)
        if req.keep_up_to_date and step < 86400 * 7:
            self.sim.live.keep_up_to_date(self, req.req_id, listing, step, req.what)

    def _hard_pacing(self, req: history.HistRequest, listing: Listing, weight: int) -> None:
        violation = self.sim.pacer.check(req.identity(), req.burst_key(listing), weight)
        if violation:
            log.info(
                "sim_tws_pacing_violation",
                client_id=self.client_id,
                req_id=req.req_id,
                rule=violation,
            )
            raise history.HistoryError(162, PACING_TEXT)

    async def _send_later(self, hold: float, fields: list[Any]) -> None:
        """A soft-throttled reply: counted as simultaneous until it is sent."""
        try:
            await asyncio.sleep(hold)
            self.send(fields)
        finally:
            self.sim.pacer.held -= 1

    def on_head_timestamp(self, f: list[str]) -> None:
        req_id = int(f[1])
        listing = self.sim.universe.resolve_one(ContractQuery.from_fields(f[2:14]))
        if listing is None:
            self.error(req_id, 200, NO_SECDEF)
            return
        head = self.sim.head_timestamp(listing)
        fmt = f[17] if len(f) > 17 else "1"
        self.send(
            [88, req_id, str(int(head.timestamp())) if fmt == "2" else f"{head:%Y%m%d-%H:%M:%S}"]
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
