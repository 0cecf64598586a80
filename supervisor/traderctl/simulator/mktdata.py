"""reqMktData (1), cancelMktData (2), reqMarketDataType (59): quotes as ticks.

A subscription first gets ``tickReqParams`` (81) and ``marketDataType`` (58),
then every field of the current :class:`~traderctl.simulator.market.Quote`
as tickPrice (1) / tickSize (2) / tickGeneric (45) / tickString (46). A
streaming subscription then gets the fields that changed, every
``interval`` seconds (TWS: 250 ms for stocks); a snapshot (or regulatory
snapshot) ends with ``tickSnapshotEnd`` (57) and is removed.

Market data type (per connection, ``reqMarketDataType``): 1 live, 2 frozen
(live, or the last values outside the session), 3 delayed (15 minutes
late, delayed tick ids 66..76), 4 delayed-frozen. Without a subscription
(scenario ``market.unsubscribed``) a live request gets 354, a delayed one
gets delayed ticks after warning 10167; ``market.no_api`` gives 10089.

Generic tick lists: 165 (misc stats: 13/26/52-week high/low, average
volume), 233 (RTVolume string), 236 (shortable), 221 (mark price), 293/294
(trade count/rate), 411 (real-time historical volatility) and 104/106
(historical/implied volatility) are answered; 100, 101, 162, 225, 256, 258,
292, 318, 375, 456, 588, 595, 619 are accepted and send nothing, as TWS
does for ticks a contract has no data for. Anything else gets 321.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._log import get_logger
from .clock import utcnow
from .market import DEFAULT_INTERVAL, Market, Quote
from .universe import ContractQuery, Listing

if TYPE_CHECKING:
    from .session import ClientSession

log = get_logger(__name__)

TICK_PRICE, TICK_SIZE, TICK_GENERIC, TICK_STRING = 1, 2, 45, 46
TICK_SNAPSHOT_END, MARKET_DATA_TYPE, TICK_REQ_PARAMS = 57, 58, 81
DELAYED_OFFSET = 65  # bid 1 -> delayed bid 66 ... open 14 -> delayed open 76 (see _DELAYED)
_PRICE_TICKS = {"bid": 1, "ask": 2, "last": 4, "high": 6, "low": 7, "close": 9, "open": 14}
_SIZE_TICKS = {"bid_size": 0, "ask_size": 3, "last_size": 5, "volume": 8}
_DELAYED = {1: 66, 2: 67, 4: 68, 0: 69, 3: 70, 5: 71, 6: 72, 7: 73, 8: 74, 9: 75, 14: 76}
ANSWERED_GENERICS = {104, 106, 165, 221, 233, 236, 293, 294, 411}
SILENT_GENERICS = {100, 101, 162, 225, 256, 258, 292, 318, 375, 456, 588, 595, 619}
_PRICE_SIZE = {"bid": "bid_size", "ask": "ask_size", "last": "last_size"}
_Q = {name: i for i, name in enumerate(Quote._fields)}
_BID_ASK = (_Q["bid"], _Q["ask"])
_LEN = struct.Struct(">I")


def _head(msg_id: int, req_id: int, tick_id: int) -> bytes:
    """``msgId, version 6, reqId, tickType`` of a tick message, NUL-terminated."""
    return b"%d\x006\x00%d\x00%d\x00" % (msg_id, req_id, tick_id)


def _num(value: float) -> bytes:
    """A quote value as :func:`~traderctl.simulator.protocol.encode_field` writes it."""
    if value.is_integer() and abs(value) < 1e15:
        return b"%d" % value
    return repr(value).encode()


@dataclass
class Subscription:
    session: ClientSession
    req_id: int
    listing: Listing
    generics: frozenset[int]
    delayed: bool
    frozen: bool
    sent: dict[int, Any] = field(default_factory=dict)
    # per tick: (index in Quote, tick id, the frame's first fields, index of its size or -1)
    price_plan: tuple[tuple[int, int, bytes, int], ...] = ()
    size_plan: tuple[tuple[int, int, bytes], ...] = ()
    halted_head: bytes = b""

    def __post_init__(self) -> None:
        """Encode once what every tick of this subscription starts with."""
        ids = _DELAYED if self.delayed else {t: t for t in _DELAYED}
        self.price_plan = tuple(
            (_Q[name], ids[tick], _head(TICK_PRICE, self.req_id, ids[tick]), _Q.get(size, -1))
            for name, tick in _PRICE_TICKS.items()
            for size in (_PRICE_SIZE.get(name, ""),)
        )
        self.size_plan = tuple(
            (_Q[name], ids[tick], _head(TICK_SIZE, self.req_id, ids[tick]))
            for name, tick in _SIZE_TICKS.items()
        )
        self.halted_head = _head(TICK_GENERIC, self.req_id, 49)


class MarketDataFeed:
    """Every open market-data subscription, and the loop that streams them."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.interval = market.interval or DEFAULT_INTERVAL
        self.subs: dict[tuple[int, int], Subscription] = {}
        self.ticks_sent = 0

    # ---- requests ----------------------------------------------------------------------

    def request(self, session: ClientSession, f: list[str]) -> None:
        """reqMktData: [1, 11, reqId, contract*12, legs, dnc, generics, snap, reg, opts]."""
        req_id = int(f[2])
        query = ContractQuery.from_fields(f[3:15])
        pos = 15
        if query.sec_type.upper() == "BAG":
            pos += 1 + 4 * int(f[pos] or 0)
        pos += 4 if f[pos] not in ("", "0") else 1
        generic_text = f[pos] if len(f) > pos else ""
        snapshot = len(f) > pos + 1 and f[pos + 1] not in ("", "0")
        regulatory = len(f) > pos + 2 and f[pos + 2] not in ("", "0")
        if not query.exchange and not query.con_id:
            session.error(req_id, 321, "Error validating request.-'bW' : cause - Missing exchange")
            return
        listing = session.sim.universe.resolve_one(query)
        if listing is None:
            session.error(req_id, 200, "No security definition has been found for the request")
            return
        generics = _parse_generics(generic_text)
        problem = (
            f"Invalid tick type {generic_text}"
            if generics is None
            else "Snapshot market data subscription is not applicable to generic ticks"
            if snapshot and generics
            else ""
        )
        if generics is None or problem:
            session.error(req_id, 321, f"Error validating request.-'bW' : cause - {problem}")
            return
        sub = self._subscribe(session, req_id, listing, generics)
        if sub is None:
            return
        self._send_full(sub, utcnow().timestamp())
        if snapshot or regulatory:
            session.send([TICK_SNAPSHOT_END, 1, req_id])
            log.info(
                "sim_tws_snapshot", req_id=req_id, con_id=listing.con_id, regulatory=regulatory
            )
        else:
            self.subs[(id(session), req_id)] = sub

    def _subscribe(
        self, session: ClientSession, req_id: int, listing: Listing, generics: frozenset[int]
    ) -> Subscription | None:
        """Entitlement check; the subscription (not yet registered) or None after an error."""
        wanted = session.market_data_type
        ent = self.market.entitlements
        delayed = wanted in (3, 4)
        if not ent.live(listing):
            if ent.api_missing(listing) and not delayed:
                session.error(
                    req_id,
                    10089,
                    "Requested market data requires additional subscription for API. See link in "
                    "'Market Data Connections' dialog for more details.Delayed market data is "
                    "available.",
                )
                return None
            if not delayed:
                session.error(
                    req_id,
                    354,
                    "Requested market data is not subscribed.Delayed market data is available.",
                )
                return None
            session.error(
                req_id,
                10167,
                "Requested market data is not subscribed. Displaying delayed market data.",
            )
        else:
            delayed = False
        frozen = wanted in (2, 4)
        sub = Subscription(session, req_id, listing, generics, delayed, frozen)
        lst = listing
        session.send([TICK_REQ_PARAMS, req_id, lst.min_tick, _bbo_exchange(lst), 3])
        return sub

    def cancel(self, session: ClientSession, req_id: int) -> None:
        self.subs.pop((id(session), req_id), None)

    def drop_session(self, session: ClientSession) -> None:
        for key in [k for k, s in self.subs.items() if s.session is session]:
            del self.subs[key]

    # ---- streaming ---------------------------------------------------------------------

    async def run(self) -> None:
        """Stream changed fields to every subscription, every ``interval`` seconds.

        Passes keep a fixed cadence (the work of a pass does not stretch the
        interval); a pass that runs late starts the next one at once, without
        bursts to catch up.
        """
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += self.interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due, loop.time() - self.interval)
            if self.subs:
                self.stream_once(utcnow().timestamp())

    def stream_once(self, ts: float) -> None:
        """One pass: each listing's quote computed once, shared by its subscribers."""
        quotes: dict[tuple[int, bool], Quote] = {}
        for key, sub in list(self.subs.items()):
            if sub.session.closed:
                del self.subs[key]
                continue
            qkey = (sub.listing.con_id, sub.delayed)
            quote = quotes.get(qkey)
            if quote is None:
                quote = quotes[qkey] = self.market.quote(sub.listing, ts, sub.delayed)
            self._send_changed(sub, ts, quote)

    def _send_full(self, sub: Subscription, ts: float) -> None:
        quote = self.market.quote(sub.listing, ts, sub.delayed)
        data_type = _data_type(sub, quote)
        sub.session.send([MARKET_DATA_TYPE, 1, sub.req_id, data_type])
        self._send_changed(sub, ts, quote)
        for msg in _generic_ticks(sub, quote):
            sub.session.send(msg)
            self.ticks_sent += 1

    def _send_changed(self, sub: Subscription, ts: float, quote: Quote | None = None) -> None:
        """The fields that changed since the last pass, framed straight to bytes."""
        q = quote or self.market.quote(sub.listing, ts, sub.delayed)
        sent = sub.sent
        frames: list[bytes] = []
        add = frames.append
        pack = _LEN.pack
        not_trading = not q.trading
        for index, tick_id, head, size_at in sub.price_plan:
            value = q[index]
            if value and sent.get(tick_id) != value:
                sent[tick_id] = value
                size = _num(q[size_at]) if size_at >= 0 else b"0"
                attrib = b"1" if not_trading and index in _BID_ASK else b"0"
                payload = b"%s%s\x00%s\x00%s\x00" % (head, _num(value), size, attrib)
                add(pack(len(payload)) + payload)
        for index, tick_id, head in sub.size_plan:
            value = q[index]
            if sent.get(tick_id) != value:
                sent[tick_id] = value
                payload = b"%s%s\x00" % (head, _num(value))
                add(pack(len(payload)) + payload)
        halted = 1 if q.halted else 0
        if sent.get(49) != halted:
            sent[49] = halted
            payload = b"%s%d\x00" % (sub.halted_head, halted)
            add(pack(len(payload)) + payload)
        if frames:
            sub.session.send_frames(frames)
            self.ticks_sent += len(frames)


def _data_type(sub: Subscription, q: Quote) -> int:
    """What TWS reports: frozen types outside the session when frozen data was asked for."""
    if sub.delayed:
        return 4 if sub.frozen and not q.trading else 3
    return 2 if sub.frozen and not q.trading else 1


def _bbo_exchange(lst: Listing) -> str:
    return "9c0001" if lst.sec_type == "STK" else "a60001"


def _parse_generics(text: str) -> frozenset[int] | None:
    """Comma-separated generic tick ids; None if one is unknown."""
    ids: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) not in ANSWERED_GENERICS | SILENT_GENERICS:
            return None
        ids.add(int(part))
    return frozenset(ids)


def _generic_ticks(sub: Subscription, q: Quote) -> list[list[Any]]:
    """One-off generic ticks for the requested generic tick list."""
    r, g = sub.req_id, sub.generics
    out: list[list[Any]] = []
    if 165 in g:
        out += [
            [TICK_PRICE, 6, r, 15, round(q.low * 0.92, 2), 0, 0],
            [TICK_PRICE, 6, r, 16, round(q.high * 1.08, 2), 0, 0],
            [TICK_PRICE, 6, r, 17, round(q.low * 0.85, 2), 0, 0],
            [TICK_PRICE, 6, r, 18, round(q.high * 1.15, 2), 0, 0],
            [TICK_PRICE, 6, r, 19, round(q.low * 0.75, 2), 0, 0],
            [TICK_PRICE, 6, r, 20, round(q.high * 1.3, 2), 0, 0],
            [TICK_SIZE, 6, r, 21, float(sub.listing.avg_volume)],
        ]
    if 221 in g:
        out.append([TICK_PRICE, 6, r, 37, q.last, 0, 0])
    if 233 in g:
        stamp = int(utcnow().timestamp() * 1000)
        rt = f"{q.last};{q.last_size};{stamp};{q.volume};{q.last};true"
        out.append([TICK_STRING, 6, r, 48, rt])
    if 236 in g:
        out.append([TICK_GENERIC, 6, r, 46, 3.0])
    if 293 in g:
        out.append([TICK_GENERIC, 6, r, 54, float(int(q.volume / 120))])
    if 294 in g:
        out.append([TICK_GENERIC, 6, r, 55, 12.0])
    if 104 in g or 411 in g:
        out.append([TICK_GENERIC, 6, r, 23 if 104 in g else 58, 0.3])
    if 106 in g:
        out.append([TICK_GENERIC, 6, r, 24, 0.33])
    return out
