"""Encoders for contract details (10/52) and symbol samples (79).

Layouts are the ones TWS uses for server versions 164..178 (no version field
in contractDetails, description and issuerId in symbol samples from 176).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from .clock import zone
from .marketrules import market_rule_id
from .protocol import encode_message
from .universe import Listing, Match

CONTRACT_DETAILS = 10
CONTRACT_DETAILS_END = 52
SYMBOL_SAMPLES = 79


def _market_rule(lst: Listing) -> str:
    rule = market_rule_id(lst)
    return ",".join(str(rule) for _ in lst.valid_exchanges)


def contract_details(req_id: int, match: Match, now: datetime) -> bytes:
    """One framed contractDetails message (40 + 2*len(secIds) fields)."""
    head, tail = _details_parts(match, now.astimezone(zone(match.listing.time_zone_id)).date())
    return _frame(head + str(req_id).encode() + b"\0" + tail)


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


@lru_cache(maxsize=4096)
def _details_parts(match: Match, today: date) -> tuple[bytes, bytes]:
    """Encoded fields before and after the reqId, cached per listing, exchange and day."""
    now = datetime.combine(today, time(12), zone(match.listing.time_zone_id))
    fields = _detail_fields(0, match, now)
    payload = encode_message(fields)[4:]
    head, _, tail = payload.partition(b"\0")
    _, _, tail = tail.partition(b"\0")
    return head + b"\0", tail


def _detail_fields(req_id: int, match: Match, now: datetime) -> list[Any]:
    lst = match.listing
    sec_ids = [("ISIN", lst.isin)] if lst.isin else []
    cash = lst.sec_type == "CASH"
    fields: list[Any] = [
        CONTRACT_DETAILS,
        req_id,
        lst.symbol,
        lst.sec_type,
        lst.last_trade,
        lst.strike,
        lst.right,
        match.exchange,
        lst.currency,
        lst.local_symbol,
        lst.trading_class,  # marketName
        lst.trading_class,
        lst.con_id,
        lst.min_tick,
        _multiplier(lst),
        lst.order_types,
        ",".join(lst.valid_exchanges),
        1,  # priceMagnifier
        lst.under_con_id,
        lst.long_name,
        lst.primary_exchange,
        lst.contract_month,
        lst.industry,
        lst.category,
        lst.subcategory,
        lst.time_zone_id,
        lst.calendar.hours_string(now, rth=False),
        lst.calendar.hours_string(now, rth=True),
        "",  # evRule
        "",  # evMultiplier
        len(sec_ids),
    ]
    for tag, value in sec_ids:
        fields += [tag, value]
    fields += [
        4 if cash else 1,  # aggGroup
        lst.symbol if lst.under_con_id else "",  # underSymbol
        "STK" if lst.sec_type == "OPT" else "",  # underSecType
        _market_rule(lst),
        lst.last_trade,  # realExpirationDate
        lst.stock_type,
        "0.01" if cash else "1",  # minSize
        "0.01" if cash else "1",  # sizeIncrement
        "0.01" if cash else "100" if lst.currency == "USD" else "1",
    ]
    return fields


def _multiplier(lst: Listing) -> str:
    if lst.sec_type in ("STK", "CASH"):
        return ""
    return str(int(lst.multiplier)) if lst.multiplier.is_integer() else str(lst.multiplier)


def contract_details_end(req_id: int) -> list[Any]:
    return [CONTRACT_DETAILS_END, 1, req_id]


def symbol_samples(req_id: int, listings: list[Listing]) -> list[Any]:
    """reqMatchingSymbols reply; one message, no End."""
    fields: list[Any] = [SYMBOL_SAMPLES, req_id, len(listings)]
    for lst in listings:
        derivs = lst.derivative_sec_types
        fields += [
            lst.con_id,
            lst.symbol,
            lst.sec_type,
            lst.primary_exchange or lst.exchange,
            lst.currency,
        ]
        fields += [len(derivs), *derivs]
        fields += [lst.long_name, ""]
    return fields
