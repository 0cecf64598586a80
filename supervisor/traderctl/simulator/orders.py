"""placeOrder (3) decoding, the order record, openOrder (5) / orderStatus (3).

placeOrder has no fixed layout: optional blocks (BAG legs, delta-neutral,
scale, hedge, algo, PEG BENCH, conditions) appear depending on earlier fields
and on the server version (faProfile below 177). The decoder walks the
fields with a cursor in the exact order ``ib_async.client.placeOrder`` writes
them, keeps every value as the raw wire string under its ib_async name, and
the openOrder echo re-emits those strings so the client decodes the same
values (including the condition block) that it sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .protocol import UNSET_DOUBLE, Cursor
from .universe import ContractQuery

ORDER_STATUS = 3
OPEN_ORDER = 5
OPEN_ORDER_END = 53

CONDITION_FIELDS: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("Price", ("conjunction", "isMore", "price", "conId", "exch", "triggerMethod")),
    3: ("Time", ("conjunction", "isMore", "time")),
    4: ("Margin", ("conjunction", "isMore", "percent")),
    5: ("Execution", ("conjunction", "secType", "exch", "symbol")),
    6: ("Volume", ("conjunction", "isMore", "volume", "conId", "exch")),
    7: ("PercentChange", ("conjunction", "isMore", "changePercent", "conId", "exch")),
}

_HEAD = (
    "action",
    "totalQuantity",
    "orderType",
    "lmtPrice",
    "auxPrice",
    "tif",
    "ocaGroup",
    "account",
    "openClose",
    "origin",
    "orderRef",
    "transmit",
    "parentId",
    "blockOrder",
    "sweepToFill",
    "displaySize",
    "triggerMethod",
    "outsideRth",
    "hidden",
)
_FA = (
    "sharesAllocation",
    "discretionaryAmt",
    "goodAfterTime",
    "goodTillDate",
    "faGroup",
    "faMethod",
    "faPercentage",
)
_MID = (
    "modelCode",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
    "ocaType",
    "rule80A",
    "settlingFirm",
    "allOrNone",
    "minQty",
    "percentOffset",
    "eTradeOnly",
    "firmQuoteOnly",
    "nbboPriceCap",
    "auctionStrategy",
    "startingPrice",
    "stockRefPrice",
    "delta",
    "stockRangeLower",
    "stockRangeUpper",
    "overridePercentageConstraints",
    "volatility",
    "volatilityType",
    "deltaNeutralOrderType",
    "deltaNeutralAuxPrice",
)
_DN = (
    "deltaNeutralConId",
    "deltaNeutralSettlingFirm",
    "deltaNeutralClearingAccount",
    "deltaNeutralClearingIntent",
    "deltaNeutralOpenClose",
    "deltaNeutralShortSale",
    "deltaNeutralShortSaleSlot",
    "deltaNeutralDesignatedLocation",
)
_SCALE_HEAD = (
    "continuousUpdate",
    "referencePriceType",
    "trailStopPrice",
    "trailingPercent",
    "scaleInitLevelSize",
    "scaleSubsLevelSize",
    "scalePriceIncrement",
)
_SCALE = (
    "scalePriceAdjustValue",
    "scalePriceAdjustInterval",
    "scaleProfitOffset",
    "scaleAutoReset",
    "scaleInitPosition",
    "scaleInitFillQty",
    "scaleRandomPercent",
)
_MISC = ("algoId", "whatIf", "orderMiscOptions", "solicited", "randomizeSize", "randomizePrice")
_PEG_BENCH = (
    "referenceContractId",
    "isPeggedChangeAmountDecrease",
    "peggedChangeAmount",
    "referenceChangeAmount",
    "referenceExchangeId",
)
_TAIL = (
    "adjustedOrderType",
    "triggerPrice",
    "lmtPriceOffset",
    "adjustedStopPrice",
    "adjustedStopLimitPrice",
    "adjustedTrailingAmount",
    "adjustableTrailingUnit",
    "extOperator",
    "softDollarTierName",
    "softDollarTierValue",
    "cashQty",
    "mifid2DecisionMaker",
    "mifid2DecisionAlgo",
    "mifid2ExecutionTrader",
    "mifid2ExecutionAlgo",
    "dontUseAutoPriceForHedge",
    "isOmsContainer",
    "discretionaryUpToLimitPrice",
    "usePriceMgmtAlgo",
)


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

    @property
    def total_quantity(self) -> float:
        return float(self.order.get("totalQuantity") or 0)

    @property
    def is_done(self) -> bool:
        return self.status in ("Cancelled", "Filled", "ApiCancelled", "Inactive")

    def set_status(self, status: str) -> None:
        self.status = status
        self.status_history.append(status)

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
            "conditions": self.conditions,
            "conditionsIgnoreRth": self.conditions_ignore_rth,
            "conditionsCancelOrder": self.conditions_cancel_order,
            "received_at": self.received_at.isoformat(),
        }


def _read(cur: Cursor, names: tuple[str, ...], into: dict[str, str]) -> None:
    for name in names:
        into[name] = cur.next()


def decode_place_order(fields: list[str], server_version: int) -> dict[str, Any]:
    """Walk a placeOrder message; return order fields, contract, conditions."""
    cur = Cursor(fields, 1)
    order_id = cur.int()
    contract = ContractQuery.from_fields(cur.take(12))
    o: dict[str, str] = {"secIdType": cur.next(), "secId": cur.next()}
    _read(cur, _HEAD, o)
    if contract.sec_type.upper() == "BAG":
        cur.take(8 * cur.int())
        cur.take(cur.int())
        cur.take(2 * cur.int())
    _read(cur, _FA, o)
    if server_version < 177:
        o["faProfile"] = cur.next()
    _read(cur, _MID, o)
    if o["deltaNeutralOrderType"]:
        _read(cur, _DN, o)
    _read(cur, _SCALE_HEAD, o)
    incr = float(o["scalePriceIncrement"] or UNSET_DOUBLE)
    if 0 < incr < UNSET_DOUBLE:
        _read(cur, _SCALE, o)
    _read(cur, ("scaleTable", "activeStartTime", "activeStopTime", "hedgeType"), o)
    if o["hedgeType"]:
        o["hedgeParam"] = cur.next()
    _read(cur, ("optOutSmartRouting", "clearingAccount", "clearingIntent", "notHeld"), o)
    if cur.bool():
        o["deltaNeutralContract"] = ",".join(cur.take(3))
    o["algoStrategy"] = cur.next()
    algo_params: list[tuple[str, str]] = []
    if o["algoStrategy"]:
        for _ in range(cur.int()):
            tag = cur.next()
            algo_params.append((tag, cur.next()))
    _read(cur, _MISC, o)
    if o["orderType"].upper() in ("PEG BENCH", "PEGBENCH"):
        _read(cur, _PEG_BENCH, o)
    conditions, block, ignore_rth, cancel_order = _decode_conditions(cur)
    _read(cur, _TAIL, o)
    for version, name in (
        (158, "duration"),
        (160, "postToAts"),
        (162, "autoCancelParent"),
        (166, "advancedErrorOverride"),
        (169, "manualOrderTime"),
    ):
        if server_version >= version:
            o[name] = cur.next()
    return {
        "order_id": order_id,
        "contract": contract,
        "order": o,
        "conditions": conditions,
        "condition_block": block,
        "ignore_rth": ignore_rth,
        "cancel_order": cancel_order,
        "algo_params": algo_params,
    }


def _decode_conditions(cur: Cursor) -> tuple[list[dict[str, Any]], list[str], bool, bool]:
    count = cur.int()
    conditions: list[dict[str, Any]] = []
    block: list[str] = []
    for _ in range(count):
        raw_type = cur.next()
        cond_type = int(raw_type or 0)
        name, names = CONDITION_FIELDS.get(cond_type, ("Unknown", ()))
        values = cur.take(len(names))
        block += [raw_type, *values]
        cond: dict[str, Any] = {
            "type": name,
            "condType": cond_type,
            **dict(zip(names, values, strict=True)),
        }
        conditions.append(cond)
    if count:
        ignore_rth, cancel_order = cur.bool(), cur.bool()
        return conditions, block, ignore_rth, cancel_order
    return conditions, block, False, False


def open_order(
    rec: OrderRecord,
    listing_fields: dict[str, Any],
    server_version: int,
    what_if: dict[str, str] | None = None,
) -> list[Any]:
    """openOrder echo in ib_async 2.1's decoding order (v176..178)."""
    o = rec.order
    g = o.get
    f: list[Any] = [OPEN_ORDER, rec.order_id]
    f += [
        listing_fields["conId"],
        listing_fields["symbol"],
        listing_fields["secType"],
        "",
        "0",
        "",
        "",
        rec.contract.exchange or listing_fields["exchange"],
        listing_fields["currency"],
        listing_fields["localSymbol"],
        listing_fields["tradingClass"],
    ]
    f += [g(n, "") for n in _HEAD[:11]]  # action .. orderRef, as placeOrder sent them
    f += [
        rec.client_id,
        rec.perm_id,
        g("outsideRth", "0"),
        g("hidden", "0"),
        g("discretionaryAmt", ""),
        g("goodAfterTime", ""),
        "",
        g("faGroup", ""),
        g("faMethod", ""),
        g("faPercentage", ""),
    ]
    if server_version < 177:
        f.append(g("faProfile", ""))
    f += [
        g(n, "")
        for n in (
            "modelCode",
            "goodTillDate",
            "rule80A",
            "percentOffset",
            "settlingFirm",
            "shortSaleSlot",
            "designatedLocation",
            "exemptCode",
            "auctionStrategy",
            "startingPrice",
            "stockRefPrice",
            "delta",
            "stockRangeLower",
            "stockRangeUpper",
            "displaySize",
            "blockOrder",
            "sweepToFill",
            "allOrNone",
            "minQty",
            "ocaType",
        )
    ]
    f += [
        "0",
        "0",
        g("nbboPriceCap", ""),
        g("parentId", "0"),
        g("triggerMethod", "0"),
        g("volatility", ""),
        g("volatilityType", ""),
        g("deltaNeutralOrderType", ""),
        g("deltaNeutralAuxPrice", ""),
    ]
    if g("deltaNeutralOrderType"):
        f += [g(n, "") for n in _DN]
    f += [
        g("continuousUpdate", "0"),
        g("referencePriceType", ""),
        g("trailStopPrice", ""),
        g("trailingPercent", ""),
        "",
        "",
        "",
        0,
        0,
        0,
    ]
    f += [g("scaleInitLevelSize", ""), g("scaleSubsLevelSize", ""), g("scalePriceIncrement", "")]
    incr = float(g("scalePriceIncrement") or UNSET_DOUBLE)
    if 0 < incr < UNSET_DOUBLE:
        f += [g(n, "") for n in _SCALE]
    f.append(g("hedgeType", ""))
    if g("hedgeType"):
        f.append(g("hedgeParam", ""))
    f += [
        g("optOutSmartRouting", "0"),
        g("clearingAccount", ""),
        g("clearingIntent", ""),
        g("notHeld", "0"),
        0,
        g("algoStrategy", ""),
    ]
    if g("algoStrategy"):
        f.append(len(rec.algo_params))
        for tag, value in rec.algo_params:
            f += [tag, value]
    wi = what_if or {}
    f += [g("solicited", "0"), "1" if what_if else "0", rec.status]
    f += [
        wi.get(k, "")
        for k in (
            "initMarginBefore",
            "maintMarginBefore",
            "equityWithLoanBefore",
            "initMarginChange",
            "maintMarginChange",
            "equityWithLoanChange",
            "initMarginAfter",
            "maintMarginAfter",
            "equityWithLoanAfter",
            "commission",
            "minCommission",
            "maxCommission",
            "commissionCurrency",
            "warningText",
        )
    ]
    f += [g("randomizeSize", "0"), g("randomizePrice", "0")]
    if g("orderType", "").upper() in ("PEG BENCH", "PEGBENCH"):
        f += [g(n, "") for n in _PEG_BENCH]
    f.append(len(rec.conditions))
    if rec.conditions:
        f += [*rec.condition_block, rec.conditions_ignore_rth, rec.conditions_cancel_order]
    f += [
        g("adjustedOrderType", ""),
        g("triggerPrice", ""),
        g("trailStopPrice", ""),
        g("lmtPriceOffset", ""),
        g("adjustedStopPrice", ""),
        g("adjustedStopLimitPrice", ""),
        g("adjustedTrailingAmount", ""),
        g("adjustableTrailingUnit", "0"),
        g("softDollarTierName", ""),
        g("softDollarTierValue", ""),
        "",
        g("cashQty", ""),
        g("dontUseAutoPriceForHedge", "0"),
        g("isOmsContainer", "0"),
        g("discretionaryUpToLimitPrice", "0"),
        g("usePriceMgmtAlgo", ""),
        g("duration", ""),
        g("postToAts", ""),
        g("autoCancelParent", "0"),
        "",
        "",
        "",
        "",
        "",
    ]
    return f


def order_status(rec: OrderRecord, filled: float = 0.0, avg_price: float = 0.0) -> list[Any]:
    """orderStatus: 12 fields, no version field."""
    remaining = max(rec.total_quantity - filled, 0.0)
    parent = rec.order.get("parentId") or "0"
    return [
        ORDER_STATUS,
        rec.order_id,
        rec.status,
        filled,
        remaining,
        avg_price,
        rec.perm_id,
        parent,
        avg_price if filled else 0,
        rec.client_id,
        "",
        0,
    ]
