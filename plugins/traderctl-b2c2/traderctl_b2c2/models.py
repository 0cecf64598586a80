"""The venue's data as pydantic v2 models: Decimals (sent as strings), aware UTC timestamps.

Quantities carry at most 4 decimals; a longer one is refused while the request model is
built, with the venue's own wording (error 1015), so nothing is sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    RootModel,
)

from traderctl_b2c2.errors import QuoteExpired, TooManyDecimals, refused_locally

if TYPE_CHECKING:
    from traderctl_b2c2.rest import RestClient

Side = Literal["buy", "sell"]
OrderType = Literal["FOK", "MKT"]
QUANTITY_DECIMALS = 4


def check_quantity(value: Decimal) -> Decimal:
    """1015 before sending: TooManyDecimals is no ValueError, so pydantic lets it through."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -QUANTITY_DECIMALS:
        raise refused_locally(1015, TooManyDecimals, f"quantity {value}")
    if value <= 0:
        raise ValueError("quantity must be positive")
    return value


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def from_epoch_ms(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return value


Quantity = Annotated[Decimal, AfterValidator(check_quantity)]
Timestamp = Annotated[AwareDatetime, AfterValidator(to_utc)]
EpochMs = Annotated[AwareDatetime, BeforeValidator(from_epoch_ms), AfterValidator(to_utc)]


def whole_seconds(value: datetime) -> str:
    """/order/ wants ``%Y-%m-%dT%H:%M:%S`` (UTC, no zone, no fraction). A fraction rounds
    up: truncating would make an order expire before the quote it executes."""
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


OrderValidUntil = Annotated[AwareDatetime, AfterValidator(to_utc),
                            PlainSerializer(whole_seconds, return_type=str)]


def new_id() -> str:
    return str(uuid.uuid4())


class Model(BaseModel):
    """Venue answers: unknown fields are kept (the API grows), values are immutable."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Request(BaseModel):
    """What we send: unknown fields are a bug on our side."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Request):
    pass


class Empty(Model):
    pass


ItemT = TypeVar("ItemT")


class Page(RootModel[list[ItemT]], Generic[ItemT]):
    """A list answer (history endpoints are paginated, see RestClient.paginate)."""

    model_config = ConfigDict(frozen=True)


class Instrument(Model):
    name: str
    underlier: str | None = None
    type: str | None = None


class Balances(RootModel[dict[str, Decimal]]):
    """Positive: B2C2 owes you; negative: you owe B2C2."""

    model_config = ConfigDict(frozen=True)


class Currency(Model):
    long_only: bool | None = None
    minimum_trade_size: Decimal | None = None
    stable_coin: bool | None = None
    currency_type: str | None = None
    is_crypto: bool | None = None
    readable_name: str | None = None


class Currencies(RootModel[dict[str, Currency]]):
    model_config = ConfigDict(frozen=True)


class AccountInfo(Model):
    max_risk_exposure: Decimal | None = None
    risk_exposure: Decimal | None = None
    currency: str | None = None


class RFQRequest(Request):
    instrument: str
    side: Side
    quantity: Quantity
    client_rfq_id: str = Field(default_factory=new_id)


class Trade(Model):
    trade_id: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    created: Timestamp
    rfq_id: str | None = None
    order: str | None = None
    cfd_contract: str | None = None
    client_rfq_id: str | None = None
    client_order_id: str | None = None
    end_client_id: str | None = None
    user: str | None = None
    origin: str | None = None
    executing_unit: str | None = None


class Order(Model):
    order_id: str
    client_order_id: str | None = None
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal | None = None
    executed_price: Decimal | None = None
    order_type: OrderType | None = None
    executing_unit: str | None = None
    created: Timestamp
    trades: list[Trade] = []

    @property
    def filled(self) -> bool:
        """``executed_price`` null means the FOK order was rejected, not filled."""
        return self.executed_price is not None


class OrderRequest(Request):
    instrument: str
    side: Side
    quantity: Quantity
    order_type: OrderType = "FOK"
    valid_until: OrderValidUntil
    price: Decimal | None = None
    acceptable_slippage_in_basis_points: int | None = Field(default=None, ge=0, le=20)
    client_order_id: str = Field(default_factory=new_id)
    executing_unit: str | None = None
    force_open: bool | None = None


class TradeRequest(Request):
    """Legacy execution of an RFQ at its quoted price."""

    rfq_id: str
    instrument: str
    side: Side
    price: Decimal
    quantity: Quantity
    executing_unit: str | None = None


class Quote(Model):
    """An RFQ answer. It knows when it expires and executes itself (refused once expired)."""

    rfq_id: str
    client_rfq_id: str | None = None
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    valid_until: Timestamp
    created: Timestamp
    _client: RestClient | None = PrivateAttr(default=None)

    def bind(self, client: RestClient) -> None:
        self._client = client

    def time_left(self, now: datetime | None = None) -> timedelta:
        return max(self.valid_until - (now or datetime.now(UTC)), timedelta(0))

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.valid_until

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price

    def execute(self, slippage_bps: int = 0, *, executing_unit: str | None = None) -> Order:
        """A FOK order at the quoted price, valid until the quote is; 1007 if expired."""
        client = self._require_client()
        return client.order(OrderRequest(
            instrument=self.instrument, side=self.side, quantity=self.quantity,
            price=self.price, order_type="FOK", valid_until=self.valid_until,
            acceptable_slippage_in_basis_points=slippage_bps, executing_unit=executing_unit))

    def execute_legacy(self) -> Trade:
        """The older ``/trade/`` path: the RFQ itself is executed."""
        client = self._require_client()
        return client.trade(TradeRequest(rfq_id=self.rfq_id, instrument=self.instrument,
                                         side=self.side, price=self.price,
                                         quantity=self.quantity))

    def _require_client(self) -> RestClient:
        if self.expired():
            raise refused_locally(1007, QuoteExpired, f"rfq {self.rfq_id} expired at "
                                  f"{self.valid_until.isoformat()}")
        if self._client is None:
            raise RuntimeError("this quote was not obtained through a RestClient")
        return self._client


class LedgerEntry(Model):
    transaction_id: str
    created: Timestamp
    currency: str
    amount: Decimal
    type: str
    reference: str | None = None
    group: str | None = None


class HistoryQuery(Request):
    """Filters and pagination shared by the order, trade and ledger histories."""

    offset: int | None = Field(default=None, ge=0)
    limit: int | None = Field(default=None, ge=1, le=100)
    cursor: str | None = None
    created__gte: Timestamp | None = None
    created__lt: Timestamp | None = None
    since: Timestamp | None = None
    instrument: str | None = None
    currency: str | None = None
    type: str | None = None
    executing_unit: str | None = None
    ordering: str | None = None


class OrderId(Request):
    order_id: str


class TradeId(Request):
    trade_id: str


class MarginQuery(Request):
    currency: str | None = None


class MarginRequirement(Model):
    margin_requirement: Decimal | None = None
    currency: str | None = None
    margin_usage: Decimal | None = None
    equity: Decimal | None = None


class OpenPosition(Model):
    instrument: str
    side: Side
    avg_entry_price: Decimal | None = None
    agg_position: Decimal | None = None


class PriceLevel(Model):
    quantity: Decimal
    price: Decimal


class PriceLevels(Model):
    buy: list[PriceLevel] = []
    sell: list[PriceLevel] = []


class Price(Model):
    """A WebSocket price frame: ``buy`` is what you pay, ``sell`` what you get."""

    instrument: str
    timestamp: EpochMs
    levels: PriceLevels

    @property
    def quantities(self) -> tuple[Decimal, ...]:
        side = self.levels.buy or self.levels.sell
        return tuple(sorted(level.quantity for level in side))
