"""The contract universe: load ``configs/universe.json`` and resolve requests.

Resolution follows what TWS does for reqContractDetails: a conId wins; else
symbol + secType + currency + primaryExchange narrow the candidates, and the
exchange is either SMART (keeps SMART), an exact venue from validExchanges,
or empty (one detail per valid exchange, which ib_async reports as
ambiguous). Matches across several security types without a secType give
IB's "ambiguous" error 200.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hours import Calendar

DEFAULT_UNIVERSE = Path(__file__).resolve().parents[3] / "configs" / "universe.json"
MAX_MATCHING_SYMBOLS = 16
_DERIVATIVES = {"STK": ("CFD", "OPT", "IOPT", "WAR", "BAG"), "CASH": ("CFD",)}


@dataclass(frozen=True)
class Listing:
    """One tradable contract as TWS knows it."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    long_name: str
    min_tick: float
    calendar: Calendar
    valid_exchanges: tuple[str, ...]
    order_types: str = ""
    stock_type: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    isin: str = ""
    ref_price: float = 100.0
    avg_volume: int = 1_000_000
    multiplier: float = 1.0
    last_trade: str = ""  # YYYYMMDD for futures and options
    strike: float = 0.0
    right: str = ""
    under_con_id: int = 0
    contract_month: str = ""

    @property
    def time_zone_id(self) -> str:
        return self.calendar.time_zone_id

    @property
    def derivative_sec_types(self) -> tuple[str, ...]:
        return _DERIVATIVES.get(self.sec_type, ())

    def accepts_exchange(self, exchange: str) -> bool:
        exch = exchange.upper()
        return (
            exch in self.valid_exchanges
            or exch == self.primary_exchange
            or (
                exch == "NASDAQ"
                and "ISLAND" in self.valid_exchanges
                and self.primary_exchange == "NASDAQ"
            )
        )


@dataclass
class ContractQuery:
    """The contract fields of a request, as decoded from the wire."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade: str = ""
    strike: str = ""
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""

    @classmethod
    def from_fields(cls, f: list[str]) -> ContractQuery:
        """Build from the 12 contract fields ib_async sends."""
        try:
            con_id = int(f[0] or 0)
        except ValueError:
            con_id = 0
        return cls(con_id, *f[1:12])

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", 0, "0.0")}


@dataclass(frozen=True)
class Match:
    """A resolved listing plus the exchange the reply should carry."""

    listing: Listing
    exchange: str


class AmbiguousContract(Exception):
    """Several security types match and the request named none."""


@dataclass
class Universe:
    listings: list[Listing]
    calendars: dict[str, Calendar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_con_id = {lst.con_id: lst for lst in self.listings}
        self.by_symbol: dict[str, list[Listing]] = {}
        self.by_symbol_type: dict[tuple[str, str], list[Listing]] = {}
        for lst in self.listings:
            names = {lst.symbol.upper(), lst.local_symbol.upper()}
            for name in names:
                self.by_symbol.setdefault(name, []).append(lst)
                self.by_symbol_type.setdefault((name, lst.sec_type), []).append(lst)

    def extended(self, extra: list[Listing] | tuple[Listing, ...]) -> Universe:
        """This universe plus generated listings (derivatives, synthetic stocks)."""
        known = set(self.by_con_id)
        return Universe(
            [*self.listings, *(x for x in extra if x.con_id not in known)], self.calendars
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Universe:
        """Load a universe file (default: the repo's configs/universe.json)."""
        target = Path(path or os.environ.get("TRADERCTL_SIM_UNIVERSE") or DEFAULT_UNIVERSE)
        raw = json.loads(target.read_text())
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Universe:
        calendars = {n: Calendar.from_dict(n, c) for n, c in raw["calendars"].items()}
        return cls([_listing(c, calendars) for c in raw["contracts"]], calendars)

    def get(self, con_id: int) -> Listing | None:
        return self.by_con_id.get(con_id)

    def resolve(self, q: ContractQuery) -> list[Match]:
        """All (listing, exchange) pairs TWS would return for the query."""
        if q.con_id:
            listing = self.by_con_id.get(q.con_id)
            if listing is None or not _exchange_ok(listing, q.exchange):
                return []
            return [Match(listing, (q.exchange or listing.exchange).upper())]
        candidates = self._candidates(q)
        if not q.sec_type and len({c.sec_type for c in candidates}) > 1:
            raise AmbiguousContract(q.symbol)
        return [m for c in candidates for m in _expand(c, q.exchange)]

    def lookup(self, name: str) -> Listing:
        """A listing named by conId, ``SYMBOL`` or ``SYMBOL@PRIMARY`` (control commands)."""
        text = str(name).strip()
        if text.isdigit():
            found = self.get(int(text))
        else:
            symbol, _, primary = text.partition("@")
            found = self.resolve_one(ContractQuery(symbol=symbol, primary_exchange=primary))
            if found is None:
                stocks = ContractQuery(symbol=symbol, sec_type="STK", primary_exchange=primary)
                found = self.resolve_one(stocks)
        if found is None:
            raise ValueError(f"no single contract named {name!r} (use conId or SYMBOL@PRIMARY)")
        return found

    def resolve_one(self, q: ContractQuery) -> Listing | None:
        """Exactly one listing for the query, else None (for history/orders)."""
        try:
            matches = self.resolve(q)
        except AmbiguousContract:
            return None
        listings = {m.listing.con_id: m.listing for m in matches}
        return next(iter(listings.values())) if len(listings) == 1 else None

    def _candidates(self, q: ContractQuery) -> list[Listing]:
        key = (q.local_symbol or q.symbol).upper()
        if q.sec_type.upper() == "CASH" and "." not in key and q.symbol:
            key = q.symbol.upper()
        found = []
        sec = q.sec_type.upper()
        pool = self.by_symbol_type.get((key, sec), []) if sec else self.by_symbol.get(key, [])
        for lst in pool:
            if q.symbol and lst.symbol.upper() != q.symbol.upper():
                continue
            if q.sec_type and lst.sec_type != q.sec_type.upper():
                continue
            if q.currency and lst.currency != q.currency.upper():
                continue
            if q.primary_exchange and not _primary_ok(lst, q.primary_exchange):
                continue
            if q.local_symbol and lst.local_symbol.upper() != q.local_symbol.upper():
                continue
            if q.trading_class and lst.trading_class.upper() != q.trading_class.upper():
                continue
            if not _derivative_ok(lst, q):
                continue
            if not _exchange_ok(lst, q.exchange):
                continue
            found.append(lst)
        return found

    def matching_symbols(self, pattern: str) -> list[Listing]:
        """reqMatchingSymbols: symbol prefix first, then a name word prefix; max 16."""
        pat = pattern.strip().upper()
        if not pat:
            return []
        exact = [lst for lst in self.listings if lst.symbol.upper() == pat]
        prefix = [
            lst for lst in self.listings if lst.symbol.upper().startswith(pat) and lst not in exact
        ]
        words = [
            lst
            for lst in self.listings
            if lst not in exact
            and lst not in prefix
            and any(w.startswith(pat) for w in lst.long_name.upper().replace("-", " ").split())
        ]
        return (exact + sorted(prefix, key=lambda x: x.symbol) + words)[:MAX_MATCHING_SYMBOLS]


def _derivative_ok(lst: Listing, q: ContractQuery) -> bool:
    """Expiry (a month matches every day in it), strike, right and multiplier."""
    if q.last_trade and not (
        lst.last_trade.startswith(q.last_trade) or lst.contract_month == q.last_trade
    ):
        return False
    try:
        strike = float(q.strike or 0)
        mult = float(q.multiplier or 0)
    except ValueError:
        return False
    if strike and abs(strike - lst.strike) > 1e-9:
        return False
    if q.right and q.right[:1].upper() != lst.right[:1]:
        return False
    return not (mult and abs(mult - lst.multiplier) > 1e-9)


def _primary_ok(lst: Listing, primary: str) -> bool:
    p = primary.upper()
    return p == lst.primary_exchange or (p == "ISLAND" and lst.primary_exchange == "NASDAQ")


def _exchange_ok(lst: Listing, exchange: str) -> bool:
    return not exchange or lst.accepts_exchange(exchange)


def _expand(lst: Listing, exchange: str) -> list[Match]:
    """Empty exchange: one detail per valid exchange, as TWS answers."""
    if exchange:
        return [Match(lst, exchange.upper())]
    return [Match(lst, e) for e in lst.valid_exchanges]


def _listing(c: dict[str, Any], calendars: dict[str, Calendar]) -> Listing:
    return Listing(
        con_id=int(c["conId"]),
        symbol=c["symbol"],
        sec_type=c["secType"],
        exchange=c.get("exchange", "SMART"),
        primary_exchange=c.get("primaryExchange", ""),
        currency=c["currency"],
        local_symbol=c.get("localSymbol", c["symbol"]),
        trading_class=c.get("tradingClass", c["symbol"]),
        long_name=c.get("longName", c["symbol"]),
        min_tick=float(c.get("minTick", 0.01)),
        calendar=calendars[c["calendar"]],
        valid_exchanges=tuple(c.get("validExchanges", c.get("exchange", "SMART")).split(",")),
        order_types=c.get("orderTypes", ""),
        stock_type=c.get("stockType", ""),
        industry=c.get("industry", ""),
        category=c.get("category", ""),
        subcategory=c.get("subcategory", ""),
        isin=c.get("isin", ""),
        ref_price=float(c.get("refPrice", 100.0)),
        avg_volume=int(c.get("avgVolume", 1_000_000)),
        multiplier=float(c.get("multiplier", 1) or 1),
    )
