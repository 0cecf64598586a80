"""SecurityDefinition: one IB contract, typed, with its exchange's time handling.

Built from an ib_async ``ContractDetails`` (:meth:`SecurityDefinition.from_contract_details`)
or from a stored row (:meth:`SecurityDefinition.from_dict`). Two definitions are the same
security when their ``con_id`` is, whatever else differs (a refresh may change the name).
Numbers are numbers (``min_tick``, ``multiplier``, sizes), lists are tuples, and every time
method takes and returns aware UTC datetimes; exchange-local times appear only at the edges
(:meth:`to_exchange_time`, :meth:`from_exchange_time`, :meth:`sessions_today`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, tzinfo
from functools import cached_property, lru_cache
from typing import Any

from traderctl.securities.sessions import Hours, Session, parse_hours
from traderctl.securities.zones import ib_zone, require_utc

_TUPLES = ("valid_exchanges", "order_types", "market_rule_ids")


@dataclass(frozen=True, eq=False)
class SecurityDefinition:
    """The contract-details fields that matter, identity ``con_id``."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str = ""
    trading_class: str = ""
    long_name: str = ""
    min_tick: float = 0.0
    multiplier: float | None = None
    price_magnifier: int = 1
    time_zone_id: str = "UTC"
    trading_hours: str = ""
    liquid_hours: str = ""
    valid_exchanges: tuple[str, ...] = ()
    order_types: tuple[str, ...] = ()
    market_rule_ids: tuple[int, ...] = ()
    last_trade_date: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = ""
    isin: str = ""
    min_size: float | None = None
    size_increment: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.con_id, int) or self.con_id <= 0:
            raise ValueError(f"con_id must be a positive int, got {self.con_id!r}")
        ib_zone(self.time_zone_id)  # an unknown zone is an error now, not at first use

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecurityDefinition):
            return NotImplemented
        return self.con_id == other.con_id

    def __hash__(self) -> int:
        return hash(self.con_id)

    @property
    def key(self) -> str:
        """``SYMBOL:PRIMARY:CURRENCY``, how the CLI names a listing."""
        return f"{self.symbol}:{self.primary_exchange or self.exchange}:{self.currency}"

    # ---- time -------------------------------------------------------------------------

    @cached_property
    def zone(self) -> tzinfo:
        """The exchange's zone (IANA, mapped from IB's ``time_zone_id``)."""
        return ib_zone(self.time_zone_id)

    @cached_property
    def trading(self) -> Hours:
        return parse_hours(self.trading_hours, self.zone)

    @cached_property
    def liquid(self) -> Hours:
        return parse_hours(self.liquid_hours or self.trading_hours, self.zone)

    def hours(self, liquid: bool = False) -> Hours:
        return self.liquid if liquid else self.trading

    def to_exchange_time(self, instant: datetime) -> datetime:
        """An aware UTC instant on the exchange's wall clock."""
        return require_utc(instant, "instant").astimezone(self.zone)

    def from_exchange_time(self, local: datetime) -> datetime:
        """Exchange wall-clock time to aware UTC; a naive ``local`` is read in the exchange
        zone (the one place a naive time is meaningful), an aware one is just converted."""
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.zone)
        return local.astimezone(UTC)

    def exchange_date(self, instant: datetime) -> date:
        return self.to_exchange_time(instant).date()

    def sessions(self, day: date, liquid: bool = False) -> tuple[Session, ...] | None:
        """Sessions of trade date ``day``: ``()`` closed (holiday, weekend), ``None`` unknown."""
        return self.hours(liquid).on(day)

    def sessions_today(self, now: datetime, liquid: bool = False) -> tuple[Session, ...] | None:
        return self.sessions(self.exchange_date(now), liquid)

    def is_open(self, instant: datetime, liquid: bool = False) -> bool | None:
        return self.hours(liquid).is_open(instant)

    def next_open(self, instant: datetime, liquid: bool = False) -> datetime | None:
        return self.hours(liquid).next_open(instant)

    def next_close(self, instant: datetime, liquid: bool = False) -> datetime | None:
        return self.hours(liquid).next_close(instant)

    def at_exchange(self, day: date, clock: time) -> datetime:
        """``clock`` on ``day`` at the exchange, as aware UTC (e.g. a 15:50 cut-off)."""
        return datetime.combine(day, clock, self.zone).astimezone(UTC)

    # ---- conversion -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _TUPLES:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecurityDefinition:
        """From :meth:`to_dict` output; unknown keys (a newer writer) are ignored."""
        known = _field_names()
        values = {k: v for k, v in data.items() if k in known}
        for name in _TUPLES:
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def contract(self) -> Any:
        """An ib_async ``Contract`` naming exactly this security (by conId)."""
        from ib_async import Contract

        return Contract(conId=self.con_id, symbol=self.symbol, secType=self.sec_type,
                        exchange=self.exchange, primaryExchange=self.primary_exchange,
                        currency=self.currency, localSymbol=self.local_symbol,
                        tradingClass=self.trading_class)

    @classmethod
    def from_contract_details(cls, details: Any) -> SecurityDefinition:
        """From an ``ib_async.ContractDetails`` (ib_async is only imported by the caller)."""
        c = details.contract
        sec_ids = {t.tag: t.value for t in (details.secIdList or [])}
        return cls(
            con_id=int(c.conId), symbol=c.symbol, sec_type=c.secType, exchange=c.exchange,
            primary_exchange=c.primaryExchange, currency=c.currency,
            local_symbol=c.localSymbol, trading_class=c.tradingClass,
            long_name=details.longName, min_tick=float(details.minTick or 0.0),
            multiplier=_number(c.multiplier), price_magnifier=int(details.priceMagnifier or 1),
            time_zone_id=details.timeZoneId or "UTC", trading_hours=details.tradingHours,
            liquid_hours=details.liquidHours, valid_exchanges=_split(details.validExchanges),
            order_types=_split(details.orderTypes),
            market_rule_ids=tuple(int(x) for x in _split(details.marketRuleIds)),
            last_trade_date=c.lastTradeDateOrContractMonth, industry=details.industry,
            category=details.category, subcategory=details.subcategory,
            stock_type=details.stockType, isin=sec_ids.pop("ISIN", ""),
            min_size=_number(details.minSize), size_increment=_number(details.sizeIncrement),
            extra={k: str(v) for k, v in sec_ids.items()},
        )


@lru_cache(maxsize=1)
def _field_names() -> frozenset[str]:
    return frozenset(f.name for f in fields(SecurityDefinition))


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _number(value: Any) -> float | None:
    """IB's empty string, 0 or UNSET_DOUBLE mean "not given"."""
    if value in (None, ""):
        return None
    number = float(value)
    return None if number == 0 or number > 1e300 else number
