"""The account model: fills move cash and positions; values follow the prices.

Margin (a documented approximation of IB's rules, not IB's risk engine):
initial and maintenance margin are a fixed share of the position's market
value per security type (stocks 25 %, FX 3 %, futures 8 %, options 100 % of
the premium for longs, 25 % of the underlying-sized notional for shorts). Net
liquidation = cash + signed market value; available funds = equity with
loan - initial margin; excess liquidity = equity - maintenance margin;
buying power = 4 x available funds; cushion = excess liquidity / net liq.

Commissions, IB Pro "tiered" schedule for US stocks (the lowest volume tier):
USD 0.0035 per share, at least USD 0.35 and at most 1 % of the trade value,
plus clearing USD 0.0002 per share, an exchange fee of USD 0.003 per share
for an order that takes liquidity (market, or a limit crossing the spread)
and the FINRA trading activity fee of USD 0.000166 per share sold (at most
USD 8.30). Other stocks: 0.05 % of value, minimum 1.25 in the listing's
currency. FX: 0.2 basis points of value, minimum USD 2. Futures: USD 0.85
per contract plus USD 1.28 exchange fee. Options: USD 0.65 per contract,
minimum USD 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .account import AccountBook, Position
from .universe import Listing

MARGIN_RATES = {"STK": 0.25, "CASH": 0.03, "FUT": 0.08, "CONTFUT": 0.08, "OPT": 1.0}


def commission(listing: Listing, shares: float, price: float, side: str, takes: bool) -> float:
    """Commission of one fill (see the module docstring for the schedule)."""
    qty = abs(shares)
    value = qty * price * listing.multiplier
    kind = listing.sec_type
    if kind == "STK" and listing.currency == "USD":
        base = min(max(0.0035 * qty, 0.35), 0.01 * value)
        fees = 0.0002 * qty + (0.003 * qty if takes else 0.0)
        if side == "SLD":
            fees += min(0.000166 * qty, 8.30)
        return round(base + fees, 4)
    if kind == "STK":
        return round(max(0.0005 * value, 1.25), 4)
    if kind == "CASH":
        return round(max(0.00002 * value, 2.0), 4)
    if kind in ("FUT", "CONTFUT"):
        return round(qty * (0.85 + 1.28), 4)
    if kind in ("OPT", "FOP"):
        return round(max(0.65 * qty, 1.0), 4)
    return round(max(0.0005 * value, 1.0), 4)


def margin(listing: Listing, position: float, price: float) -> float:
    """Initial (= maintenance) margin of a position."""
    rate = MARGIN_RATES.get(listing.sec_type, 0.25)
    if listing.sec_type == "OPT" and position < 0:
        rate = 0.25 * 100 / max(price, 0.01)  # short option: a share of the underlying notional
    return abs(position) * price * listing.multiplier * rate


def apply_fill(
    book: AccountBook, account: str, listing: Listing, signed: float, price: float, fee: float
) -> float | None:
    """Book a fill; return the realized P&L if it reduced a position (else None)."""
    mult = listing.multiplier
    book.cash -= signed * price * mult + fee
    i = next(
        (
            n
            for n, p in enumerate(book.positions)
            if p.account == account and p.listing.con_id == listing.con_id
        ),
        None,
    )
    if i is None:
        book.positions.append(Position(account, listing, signed, price * mult))
        return None
    pos = book.positions[i]
    old = pos.position
    new = old + signed
    realized: float | None = None
    if old and (old > 0) != (signed > 0):  # reducing or flipping
        closed = min(abs(signed), abs(old)) * (1 if old > 0 else -1)
        realized = closed * (price * mult - pos.avg_cost) - fee
        book.realized[listing.con_id] = book.realized.get(listing.con_id, 0.0) + realized
    if new == 0:
        avg = 0.0
    elif realized is None:
        avg = (pos.avg_cost * old + price * mult * signed) / new
    else:
        avg = pos.avg_cost if (new > 0) == (old > 0) else price * mult
    total = (pos.realized or 0.0) + (realized or 0.0)
    book.positions[i] = replace(pos, position=new, avg_cost=avg, realized=total)
    return realized


def computed_values(
    book: AccountBook, price_of: Callable[[Listing], float]
) -> dict[str, tuple[str, str]]:
    """Account values at current prices (keys as reqAccountUpdates sends them)."""
    market_value = gross = init = unrealized = 0.0
    for p in book.positions:
        price = price_of(p.listing)
        value = p.position * price * p.listing.multiplier
        market_value += value
        gross += abs(value)
        init += margin(p.listing, p.position, price)
        unrealized += value - p.avg_cost * p.position
    net_liq = book.cash + market_value
    available = net_liq - init
    cushion = available / net_liq if net_liq > 0 else 0.0
    usd = {
        "NetLiquidation": net_liq,
        "TotalCashValue": book.cash,
        "SettledCash": book.cash,
        "EquityWithLoanValue": net_liq,
        "GrossPositionValue": gross,
        "InitMarginReq": init,
        "MaintMarginReq": init,
        "FullInitMarginReq": init,
        "FullMaintMarginReq": init,
        "AvailableFunds": available,
        "ExcessLiquidity": available,
        "BuyingPower": 4 * available,
        "UnrealizedPnL": unrealized,
        "RealizedPnL": sum(book.realized.values()),
    }
    out = {k: (f"{v:.2f}", "USD") for k, v in usd.items()}
    out["Cushion"] = (f"{cushion:.6f}", "")
    out["Leverage-S"] = (f"{gross / net_liq if net_liq > 0 else 0:.4f}", "")
    return out


def position_pnl(book: AccountBook, pos: Position, price: float, prev_close: float) -> tuple:
    """(daily, unrealized, realized, value) of one position at ``price``."""
    mult = pos.listing.multiplier
    value = pos.position * price * mult
    unrealized = value - pos.avg_cost * pos.position
    daily = pos.position * (price - (prev_close or price)) * mult
    realized = book.realized.get(pos.listing.con_id, 0.0)
    return daily, unrealized, realized, value
