"""Field names of placeOrder / openOrder, in the order ib_async writes them.

Every order value is kept as the raw wire string under its ib_async name;
these tuples are the runs of consecutive fields the decoder
(:mod:`traderctl.simulator.orders`) reads and the openOrder encoder
(:mod:`traderctl.simulator.openorder`) writes back.
"""

from __future__ import annotations

CONDITION_FIELDS: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("Price", ("conjunction", "isMore", "price", "conId", "exch", "triggerMethod")),
    3: ("Time", ("conjunction", "isMore", "time")),
    4: ("Margin", ("conjunction", "isMore", "percent")),
    5: ("Execution", ("conjunction", "secType", "exch", "symbol")),
    6: ("Volume", ("conjunction", "isMore", "volume", "conId", "exch")),
    7: ("PercentChange", ("conjunction", "isMore", "changePercent", "conId", "exch")),
}

HEAD = (
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
FA = (
    "sharesAllocation",
    "discretionaryAmt",
    "goodAfterTime",
    "goodTillDate",
    "faGroup",
    "faMethod",
    "faPercentage",
)
MID = (
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
DN = (
    "deltaNeutralConId",
    "deltaNeutralSettlingFirm",
    "deltaNeutralClearingAccount",
    "deltaNeutralClearingIntent",
    "deltaNeutralOpenClose",
    "deltaNeutralShortSale",
    "deltaNeutralShortSaleSlot",
    "deltaNeutralDesignatedLocation",
)
SCALE_HEAD = (
    "continuousUpdate",
    "referencePriceType",
    "trailStopPrice",
    "trailingPercent",
    "scaleInitLevelSize",
    "scaleSubsLevelSize",
    "scalePriceIncrement",
)
SCALE = (
    "scalePriceAdjustValue",
    "scalePriceAdjustInterval",
    "scaleProfitOffset",
    "scaleAutoReset",
    "scaleInitPosition",
    "scaleInitFillQty",
    "scaleRandomPercent",
)
MISC = ("algoId", "whatIf", "orderMiscOptions", "solicited", "randomizeSize", "randomizePrice")
PEG_BENCH = (
    "referenceContractId",
    "isPeggedChangeAmountDecrease",
    "peggedChangeAmount",
    "referenceChangeAmount",
    "referenceExchangeId",
)
TAIL = (
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

# openOrder: the run after faGroup/faMethod/faPercentage (and faProfile below 177)
OPEN_MID = (
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
# openOrder: the order state a whatIf reply fills in (empty strings otherwise)
WHAT_IF = (
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
# openOrder: (name, default) after the condition block, up to autoCancelParent
OPEN_TAIL: tuple[tuple[str, str], ...] = (
    ("adjustedOrderType", ""),
    ("triggerPrice", ""),
    ("trailStopPrice", ""),
    ("lmtPriceOffset", ""),
    ("adjustedStopPrice", ""),
    ("adjustedStopLimitPrice", ""),
    ("adjustedTrailingAmount", ""),
    ("adjustableTrailingUnit", "0"),
    ("softDollarTierName", ""),
    ("softDollarTierValue", ""),
    ("", ""),  # softDollarTier display name
    ("cashQty", ""),
    ("dontUseAutoPriceForHedge", "0"),
    ("isOmsContainer", "0"),
    ("discretionaryUpToLimitPrice", "0"),
    ("usePriceMgmtAlgo", ""),
    ("duration", ""),
    ("postToAts", ""),
    ("autoCancelParent", "0"),
)
# placeOrder: fields added by later server versions, at the very end
VERSIONED_TAIL = (
    (158, "duration"),
    (160, "postToAts"),
    (162, "autoCancelParent"),
    (166, "advancedErrorOverride"),
    (169, "manualOrderTime"),
)
