"""placeOrder (3) decoding and the order record; orderStatus (3) encoding.

placeOrder has no fixed layout: optional blocks (BAG legs, delta-neutral,
scale, hedge, algo, PEG BENCH, conditions) appear depending on earlier fields
and on the server version (faProfile below 177). The decoder walks the
fields with a cursor in the exact order ``ib_async.client.placeOrder`` writes
them and keeps every value as the raw wire string under its ib_async name
(names in :mod:`traderctl.simulator.orderfields`); the openOrder echo
(:mod:`traderctl.simulator.openorder`) re-emits those strings so the client
decodes the same values, condition block included, that it sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import orderfields as of
from .protocol import UNSET_DOUBLE, Cursor
from .universe import ContractQuery

ORDER_STATUS = 3
DONE_STATES = ("Cancelled", "Filled", "ApiCancelled", "Inactive")


@dataclass
class DecodedOrder:
    """What one placeOrder message carried."""

    order_id: int
    contract: ContractQuery
    order: dict[str, str]
    conditions: list[dict[str, Any]] = field(default_factory=list)
    condition_block: list[str] = field(default_factory=list)
    ignore_rth: bool = False
    cancel_order: bool = False
    algo_params: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class OrderRecord:
    """Everything the simulator received for one order, plus its live state."""

    order_id: int
    client_id: int
    perm_id: int
    contract: ContractQuery
    order: dict[str, str]
    conditions: list[dict[str, Any]]
    conditions_ignore_rth: bool
    conditions_cancel_order: bool
    received_at: datetime
    raw_fields: list[str]
    con_id: int = 0
    status: str = "PendingSubmit"
    status_history: list[str] = field(default_factory=list)
    algo_params: list[tuple[str, str]] = field(default_factory=list)
    condition_block: list[str] = field(default_factory=list)
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    stop_triggered: bool = False
    trail_stop: float | None = None
    done_at: datetime | None = None
    # openOrder payload around the status, per server version (see openorder.open_order_parts)
    wire: dict[int, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)
    # the quantity placed, before an OCA group's reductions lowered totalQuantity
    placed_quantity: float = 0.0

    @classmethod
    def from_decoded(cls, d: DecodedOrder, **state: Any) -> OrderRecord:
        return cls(
            order_id=d.order_id,
            contract=d.contract,
            order=d.order,
            conditions=d.conditions,
            conditions_ignore_rth=d.ignore_rth,
            conditions_cancel_order=d.cancel_order,
            algo_params=d.algo_params,
            condition_block=d.condition_block,
            **state,
        )

    @property
    def total_quantity(self) -> float:
        return float(self.order.get("totalQuantity") or 0)

    def _int(self, name: str) -> int:
        """An integer field of the order as the client sent it (empty or garbled: 0)."""
        try:
            return int(self.order.get(name) or 0)
        except ValueError:
            return 0

    @property
    def remaining(self) -> float:
        return max(self.total_quantity - self.filled, 0.0)

    @property
    def oca_type(self) -> int:
        """1 cancel the rest with block, 2 reduce with block, 3 reduce without (0: as 1)."""
        return self._int("ocaType")

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATES

    @property
    def key(self) -> tuple[int, int]:
        return (self.client_id, self.order_id)

    @property
    def parent_id(self) -> int:
        return self._int("parentId")

    @property
    def transmitted(self) -> bool:
        return self.order.get("transmit", "1") not in ("0", "False", "false")

    def reduce_to(self, total: float) -> None:
        """Lower totalQuantity (an OCA group's reduction); openOrder shows the new size."""
        self.placed_quantity = self.placed_quantity or self.total_quantity
        self.order["totalQuantity"] = _quantity_text(total)
        self.wire.clear()

    def carry_fills(self, old: OrderRecord) -> None:
        """A modification keeps what the original order already filled."""
        self.filled, self.avg_fill_price = old.filled, old.avg_fill_price
        self.last_fill_price, self.stop_triggered = old.last_fill_price, old.stop_triggered
        self.trail_stop = old.trail_stop

    def set_status(self, status: str) -> None:
        self.status = status
        self.status_history.append(status)
        if status in DONE_STATES:
            self.done_at = datetime.now(UTC)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly view for the control channel."""
        return {
            "order_id": self.order_id,
            "client_id": self.client_id,
            "perm_id": self.perm_id,
            "status": self.status,
            "contract": self.contract.describe(),
            "con_id": self.con_id,
            "action": self.order.get("action"),
            "totalQuantity": self.order.get("totalQuantity"),
            "orderType": self.order.get("orderType"),
            "lmtPrice": self.order.get("lmtPrice"),
            "filled": self.filled,
            "avgFillPrice": self.avg_fill_price,
            "conditions": self.conditions,
            "conditionsIgnoreRth": self.conditions_ignore_rth,
            "conditionsCancelOrder": self.conditions_cancel_order,
            "received_at": self.received_at.isoformat(),
        }


def _quantity_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _read(cur: Cursor, names: tuple[str, ...], into: dict[str, str]) -> None:
    """The next ``len(names)`` fields into ``into`` ('' past the end, as Cursor.next)."""
    start, count = cur.pos, len(names)
    values = cur.fields[start : start + count]
    if len(values) < count:
        values += [""] * (count - len(values))
    into.update(zip(names, values, strict=True))
    cur.pos = start + count


def has_scale_block(o: dict[str, str]) -> bool:
    """The scale fields after scalePriceIncrement are present only for a real increment."""
    incr = float(o.get("scalePriceIncrement") or UNSET_DOUBLE)
    return 0 < incr < UNSET_DOUBLE


def is_peg_bench(o: dict[str, str]) -> bool:
    return o.get("orderType", "").upper() in ("PEG BENCH", "PEGBENCH")


def decode_place_order(fields: list[str], server_version: int) -> DecodedOrder:
    """Walk a placeOrder message; return order fields, contract, conditions."""
    cur = Cursor(fields, 1)
    order_id = cur.int()
    contract = ContractQuery.from_fields(cur.take(12))
    o: dict[str, str] = {"secIdType": cur.next(), "secId": cur.next()}
    _read(cur, of.HEAD, o)
    if contract.sec_type.upper() == "BAG":
        cur.take(8 * cur.int())
        cur.take(cur.int())
        cur.take(2 * cur.int())
    _read(cur, of.FA, o)
    if server_version < 177:
        o["faProfile"] = cur.next()
    _decode_middle(cur, o)
    algo_params = _decode_algo(cur, o)
    _read(cur, of.MISC, o)
    if is_peg_bench(o):
        _read(cur, of.PEG_BENCH, o)
    decoded = DecodedOrder(order_id, contract, o, algo_params=algo_params)
    _decode_conditions(cur, decoded)
    _read(cur, of.TAIL, o)
    for version, name in of.VERSIONED_TAIL:
        if server_version >= version:
            o[name] = cur.next()
    return decoded


def _decode_middle(cur: Cursor, o: dict[str, str]) -> None:
    """From modelCode to the delta-neutral contract: the optional blocks."""
    _read(cur, of.MID, o)
    if o["deltaNeutralOrderType"]:
        _read(cur, of.DN, o)
    _read(cur, of.SCALE_HEAD, o)
    if has_scale_block(o):
        _read(cur, of.SCALE, o)
    _read(cur, ("scaleTable", "activeStartTime", "activeStopTime", "hedgeType"), o)
    if o["hedgeType"]:
        o["hedgeParam"] = cur.next()
    _read(cur, ("optOutSmartRouting", "clearingAccount", "clearingIntent", "notHeld"), o)
    if cur.bool():
        o["deltaNeutralContract"] = ",".join(cur.take(3))


def _decode_algo(cur: Cursor, o: dict[str, str]) -> list[tuple[str, str]]:
    o["algoStrategy"] = cur.next()
    params: list[tuple[str, str]] = []
    if o["algoStrategy"]:
        for _ in range(cur.int()):
            tag = cur.next()
            params.append((tag, cur.next()))
    return params


def _decode_conditions(cur: Cursor, into: DecodedOrder) -> None:
    count = cur.int()
    for _ in range(count):
        raw_type = cur.next()
        cond_type = int(raw_type or 0)
        name, names = of.CONDITION_FIELDS.get(cond_type, ("Unknown", ()))
        values = cur.take(len(names))
        into.condition_block += [raw_type, *values]
        into.conditions.append(
            {"type": name, "condType": cond_type, **dict(zip(names, values, strict=True))}
        )
    if count:
        into.ignore_rth, into.cancel_order = cur.bool(), cur.bool()


def order_status(rec: OrderRecord) -> list[Any]:
    """orderStatus: 12 fields, no version field."""
    parent = rec.order.get("parentId") or "0"
    return [
        ORDER_STATUS,
        rec.order_id,
        rec.status,
        rec.filled,
        rec.remaining,
        rec.avg_fill_price,
        rec.perm_id,
        parent,
        rec.last_fill_price if rec.filled else 0,
        rec.client_id,
        "",
        0,
    ]
