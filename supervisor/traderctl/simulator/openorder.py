"""openOrder (5) and openOrderEnd (53): the echo of a placed order.

Written in ib_async 2.1's decoding order for server versions 176..178: the
contract, then the order's own wire strings as placeOrder sent them (so the
client decodes back identical values), with the simulator's state (permId,
status, what-if margins) in between. Each helper below writes one run of
the layout.
"""

from __future__ import annotations

from typing import Any

from . import orderfields as of
from .orders import OrderRecord, has_scale_block, is_peg_bench
from .protocol import encode_message

OPEN_ORDER = 5
OPEN_ORDER_END = 53


STATUS_SLOT = object()  # stands for the status in :func:`open_order_parts`


def open_order_parts(
    rec: OrderRecord, listing_fields: dict[str, Any], server_version: int
) -> tuple[bytes, bytes]:
    """openOrder's payload before and after the status, which alone changes over its life.

    The order's wire strings, contract and ids are fixed once placed (a
    modification is a new record), so the two parts are encoded once per
    order and version and the frame is rebuilt around each new status.
    """
    fields = open_order(rec, listing_fields, server_version, status=STATUS_SLOT)
    at = next(i for i, value in enumerate(fields) if value is STATUS_SLOT)
    head = encode_message(fields[:at])[4:]
    tail = encode_message(fields[at + 1 :])[4:]
    return head, tail


def open_order(
    rec: OrderRecord,
    listing_fields: dict[str, Any],
    server_version: int,
    what_if: dict[str, str] | None = None,
    status: Any = None,
) -> list[Any]:
    """The whole openOrder message for ``rec`` (``status``: instead of ``rec.status``)."""
    g = rec.order.get
    f: list[Any] = [OPEN_ORDER, rec.order_id, *_contract(rec, listing_fields)]
    f += [g(n, "") for n in of.HEAD[:11]]  # action .. orderRef
    f += _identity_and_fa(rec, server_version)
    f += [g(n, "") for n in of.OPEN_MID]
    f += _volatility_and_scale(rec)
    f += _hedge_and_algo(rec)
    wi = what_if or {}
    f += [g("solicited", "0"), "1" if what_if else "0", rec.status if status is None else status]
    f += [wi.get(k, "") for k in of.WHAT_IF]
    f += [g("randomizeSize", "0"), g("randomizePrice", "0")]
    if is_peg_bench(rec.order):
        f += [g(n, "") for n in of.PEG_BENCH]
    f.append(len(rec.conditions))
    if rec.conditions:
        f += [*rec.condition_block, rec.conditions_ignore_rth, rec.conditions_cancel_order]
    f += [g(name, default) if name else "" for name, default in of.OPEN_TAIL]
    f += ["", "", "", "", ""]  # minTradeQty .. refFuturesConId (not modelled)
    return f


def _contract(rec: OrderRecord, lf: dict[str, Any]) -> list[Any]:
    return [
        lf["conId"],
        lf["symbol"],
        lf["secType"],
        rec.contract.last_trade,
        rec.contract.strike or "0",
        rec.contract.right,
        rec.contract.multiplier,
        rec.contract.exchange or lf["exchange"],
        lf["currency"],
        lf["localSymbol"],
        lf["tradingClass"],
    ]


def _identity_and_fa(rec: OrderRecord, server_version: int) -> list[Any]:
    g = rec.order.get
    f: list[Any] = [
        rec.client_id,
        rec.perm_id,
        g("outsideRth", "0"),
        g("hidden", "0"),
        g("discretionaryAmt", ""),
        g("goodAfterTime", ""),
        "",  # sharesAllocation (deprecated)
        g("faGroup", ""),
        g("faMethod", ""),
        g("faPercentage", ""),
    ]
    if server_version < 177:
        f.append(g("faProfile", ""))
    return f


def _volatility_and_scale(rec: OrderRecord) -> list[Any]:
    g = rec.order.get
    f: list[Any] = ["0", "0", g("nbboPriceCap", ""), g("parentId", "0"), g("triggerMethod", "0")]
    f += [g(n, "") for n in ("volatility", "volatilityType")]
    f += [g("deltaNeutralOrderType", ""), g("deltaNeutralAuxPrice", "")]
    if g("deltaNeutralOrderType"):
        f += [g(n, "") for n in of.DN]
    f += [g("continuousUpdate", "0"), g("referencePriceType", "")]
    f += [g("trailStopPrice", ""), g("trailingPercent", "")]
    f += ["", "", "", 0, 0, 0]  # basisPoints, basisPointsType, comboLegsDescrip, legs
    f += [g(n, "") for n in ("scaleInitLevelSize", "scaleSubsLevelSize", "scalePriceIncrement")]
    if has_scale_block(rec.order):
        f += [g(n, "") for n in of.SCALE]
    return f


def _hedge_and_algo(rec: OrderRecord) -> list[Any]:
    g = rec.order.get
    f: list[Any] = [g("hedgeType", "")]
    if g("hedgeType"):
        f.append(g("hedgeParam", ""))
    f += [g("optOutSmartRouting", "0"), g("clearingAccount", ""), g("clearingIntent", "")]
    f += [g("notHeld", "0"), 0, g("algoStrategy", "")]  # 0: no delta-neutral contract
    if g("algoStrategy"):
        f.append(len(rec.algo_params))
        for tag, value in rec.algo_params:
            f += [tag, value]
    return f


COMPLETED_ORDER = 101
COMPLETED_ORDERS_END = 102
_COMPLETED_MID = (
    "modelCode",
    "goodTillDate",
    "rule80A",
    "percentOffset",
    "settlingFirm",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
    "startingPrice",
    "stockRefPrice",
    "delta",
    "stockRangeLower",
    "stockRangeUpper",
    "displaySize",
    "sweepToFill",
    "allOrNone",
    "minQty",
    "ocaType",
    "triggerMethod",
    "volatility",
    "volatilityType",
    "deltaNeutralOrderType",
    "deltaNeutralAuxPrice",
)
_COMPLETED_DN = (
    "deltaNeutralConId",
    "deltaNeutralShortSale",
    "deltaNeutralShortSaleSlot",
    "deltaNeutralDesignatedLocation",
)


def completed_order(
    rec: OrderRecord, listing_fields: dict[str, Any], server_version: int, completed_time: str
) -> list[Any]:
    """completedOrder (101), the layout ib_async 2.1 decodes (no orderId, no version)."""
    g = rec.order.get
    f: list[Any] = [COMPLETED_ORDER, *_contract(rec, listing_fields)]
    f += [g(n, "") for n in of.HEAD[:11]]
    f += [rec.perm_id, g("outsideRth", "0"), g("hidden", "0"), g("discretionaryAmt", "")]
    f += [g(n, "") for n in ("goodAfterTime", "faGroup", "faMethod", "faPercentage")]
    if server_version < 177:
        f.append(g("faProfile", ""))
    f += [g(n, "") for n in _COMPLETED_MID]
    if g("deltaNeutralOrderType"):
        f += [g(n, "") for n in _COMPLETED_DN]
    f += [g(n, "") for n in ("continuousUpdate", "referencePriceType", "trailStopPrice")]
    f += [g("trailingPercent", ""), "", 0, 0, 0]  # comboLegsDescrip, legs, order legs, params
    f += [g(n, "") for n in ("scaleInitLevelSize", "scaleSubsLevelSize", "scalePriceIncrement")]
    if has_scale_block(rec.order):
        f += [g(n, "") for n in of.SCALE]
    f.append(g("hedgeType", ""))
    if g("hedgeType"):
        f.append(g("hedgeParam", ""))
    f += [g("clearingAccount", ""), g("clearingIntent", ""), g("notHeld", "0"), 0]
    f.append(g("algoStrategy", ""))
    if g("algoStrategy"):
        f.append(len(rec.algo_params))
        for tag, value in rec.algo_params:
            f += [tag, value]
    f += [g("solicited", "0"), rec.status, g("randomizeSize", "0"), g("randomizePrice", "0")]
    if is_peg_bench(rec.order):
        f += [g(n, "") for n in of.PEG_BENCH]
    f.append(len(rec.conditions))
    if rec.conditions:
        f += [*rec.condition_block, rec.conditions_ignore_rth, rec.conditions_cancel_order]
    f += [g("trailStopPrice", ""), g("lmtPriceOffset", ""), g("cashQty", "")]
    f += [g("dontUseAutoPriceForHedge", "0"), g("isOmsContainer", "0"), ""]  # autoCancelDate
    f += [rec.filled, "", g("autoCancelParent", "0"), "", "0", "0", ""]  # .. parentPermId
    f += [completed_time, rec.status]
    if server_version >= 170:
        f += ["", "", "", "", ""]
    return f
