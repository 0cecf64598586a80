"""The fake venue's read-only endpoints: reference data, balances, histories, CFD risk."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from traderctl_b2c2.sim import prices
from traderctl_b2c2.sim.state import Account, Reject, VenueState

MAX_OFFSET = 10_000
FILTERS = ("instrument", "currency", "type", "executing_unit")


def instruments(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    return [{"name": name, "underlier": prices.underlier(name), "type": name.split(".")[1]}
            for name in state.instruments]


def balance(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    with state.lock:
        return {ccy: f"{amount:.10f}" for ccy, amount in sorted(acct.balances.items())}


def currency(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    codes = sorted({c for name in state.instruments for c in prices.split_pair(name)})
    return {c: {"long_only": False, "minimum_trade_size": "0.0001",
                "stable_coin": False, "is_crypto": c not in ("USD", "EUR"),
                "currency_type": "fiat" if c in ("USD", "EUR") else "crypto",
                "readable_name": c} for c in codes}


def account_info(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    return {"max_risk_exposure": "10000000", "risk_exposure": str(_exposure(acct)),
            "currency": "USD", "btc_max_qty_per_trade": "100"}


def _exposure(acct: Account) -> Decimal:
    return sum((Decimal(t["quantity"]) * Decimal(t["price"]) for t in acct.trades
                if t["instrument"].endswith(".CFD")), Decimal(0))


def margin_requirements(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    exposure = _exposure(acct)
    return {"margin_requirement": str(exposure / 10), "currency": params.get("currency", "USD"),
            "margin_usage": "0", "equity": str(acct.balances.get("USD", Decimal(0)))}


def open_positions(state: VenueState, acct: Account, params: dict[str, str]) -> Any:
    positions: dict[str, tuple[Decimal, Decimal]] = {}
    for t in acct.trades:
        if t["instrument"].endswith(".CFD"):
            qty, cost = positions.get(t["instrument"], (Decimal(0), Decimal(0)))
            sign = 1 if t["side"] == "buy" else -1
            size = sign * Decimal(t["quantity"])
            positions[t["instrument"]] = (qty + size, cost + size * Decimal(t["price"]))
    return [{"instrument": name, "side": "buy" if qty > 0 else "sell",
             "avg_entry_price": str(abs(cost / qty)), "agg_position": str(abs(qty))}
            for name, (qty, cost) in positions.items() if qty]


def history(rows: list[dict[str, Any]], params: dict[str, str], cursor_pages: bool
            ) -> tuple[list[dict[str, Any]], str | None]:
    """Filter, newest first, and one page; the ``cursor`` of the next page, if any."""
    selected = [r for r in rows if all(r.get(k) == params[k] for k in FILTERS if k in params)]
    for key, keep in (("created__gte", lambda a, b: a >= b), ("since", lambda a, b: a >= b),
                      ("created__lt", lambda a, b: a < b)):
        if key in params:
            bound = _iso(params[key])
            selected = [r for r in selected if keep(r["created"], bound)]
    selected.sort(key=lambda r: r["created"], reverse=params.get("ordering") != "created")
    limit = _int(params.get("limit", "50"), "limit", 1, 100)
    offset = _decode(params["cursor"]) if "cursor" in params else _int(
        params.get("offset", "0"), "offset", 0, None)
    if offset > MAX_OFFSET:
        raise Reject(400, 1102, "Pagination offset too big - Narrow down the data space "
                                "using created__gte / created__lt / since")
    page = selected[offset:offset + limit]
    more = offset + limit < len(selected)
    return page, (_encode(offset + limit) if more and cursor_pages else None)


def _iso(text: str) -> str:
    """Normalise a filter timestamp to the stored form so string comparison is ordering."""
    from datetime import UTC, datetime

    from traderctl_b2c2.sim.state import iso

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Reject(400, 1017, f"Illegal parameter: {text!r} is not a timestamp.") from None
    return iso(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))


def _int(text: str, key: str, low: int, high: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Reject(400, 1017, f"Illegal parameter: {key}.") from None
    if value < low or (high is not None and value > high):
        raise Reject(400, 1017, f"Illegal parameter: {key}.")
    return value


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
    except ValueError:
        raise Reject(400, 1017, "Illegal parameter: cursor.") from None
