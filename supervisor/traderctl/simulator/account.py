"""Account state answers: positions, account values, summary, executions.

These are the replies ib_async's start-up sync waits for. Their content comes
from the scenario (empty by default); each request is always closed by its
End message so a full ``IB.connect()`` completes in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .clock import format_bar_time
from .scenario import Scenario
from .universe import ContractQuery, Listing, Universe

DEFAULT_VALUES = {
    "AccountType": ("INDIVIDUAL", ""),
    "NetLiquidation": ("1000000.00", "USD"),
    "TotalCashValue": ("1000000.00", "USD"),
    "SettledCash": ("1000000.00", "USD"),
    "BuyingPower": ("4000000.00", "USD"),
    "AvailableFunds": ("1000000.00", "USD"),
    "ExcessLiquidity": ("1000000.00", "USD"),
    "EquityWithLoanValue": ("1000000.00", "USD"),
    "GrossPositionValue": ("0.00", "USD"),
    "InitMarginReq": ("0.00", "USD"),
    "MaintMarginReq": ("0.00", "USD"),
    "FullInitMarginReq": ("0.00", "USD"),
    "FullMaintMarginReq": ("0.00", "USD"),
    "Cushion": ("1", ""),
    "Leverage-S": ("0", ""),
    "DayTradesRemaining": ("-1", ""),
    "Currency": ("USD", "USD"),
}


@dataclass(frozen=True)
class Position:
    account: str
    listing: Listing
    position: float
    avg_cost: float
    realized: float | None = None


@dataclass(frozen=True)
class Execution:
    exec_id: str
    order_id: int
    perm_id: int
    client_id: int
    account: str
    listing: Listing
    side: str
    shares: float
    price: float
    time: datetime
    exchange: str
    commission: float
    realized: float | None = None
    cum_qty: float = 0.0
    avg_price: float = 0.0


def _query(entry: dict[str, Any]) -> ContractQuery:
    return ContractQuery(
        con_id=int(entry.get("conId", 0) or 0),
        symbol=str(entry.get("symbol", "")),
        sec_type=str(entry.get("secType", "STK" if "symbol" in entry else "")),
        exchange=str(entry.get("exchange", "SMART" if "symbol" in entry else "")),
        primary_exchange=str(entry.get("primaryExchange", "")),
        currency=str(entry.get("currency", "")),
    )


def _resolve(universe: Universe, entry: dict[str, Any]) -> Listing:
    listing = universe.resolve_one(_query(entry))
    if listing is None:
        raise ValueError(f"scenario entry does not match exactly one contract: {entry}")
    return listing


def _parse_time(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
    ts = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class AccountBook:
    """Account values, positions and executions of the simulated login.

    Cash, positions and realized P&L move with fills (:mod:`.ledger`); account
    values are computed from them at the current simulated prices
    (``price_of``, set by the simulator). A value the scenario names in
    ``account_values`` is pinned to that text (a test can fix the cushion).
    """

    def __init__(self, scenario: Scenario, universe: Universe) -> None:
        self.accounts = scenario.accounts
        self.price_of: Callable[[Listing], float] | None = None
        start = scenario.account_values.get("TotalCashValue") or scenario.account_values.get(
            "NetLiquidation", "1000000"
        )
        self.cash = float(start)
        self.realized: dict[int, float] = {}
        self.values = {
            k: (v, DEFAULT_VALUES.get(k, ("", "USD"))[1])
            for k, v in scenario.account_values.items()
        }
        self.positions = [
            Position(
                str(p.get("account", self.accounts[0])),
                _resolve(universe, p),
                float(p["position"]),
                float(p.get("avgCost", 0.0)),
            )
            for p in scenario.positions
        ]
        self.executions = [
            self._execution(i, e, universe) for i, e in enumerate(scenario.executions)
        ]

    def _execution(self, i: int, e: dict[str, Any], universe: Universe) -> Execution:
        listing = _resolve(universe, e)
        return Execution(
            exec_id=str(e.get("execId", f"0000e0d5.{6700000 + i:08x}.01.01")),
            order_id=int(e.get("orderId", 0)),
            perm_id=int(e.get("permId", 900_000_000 + i)),
            client_id=int(e.get("clientId", 0)),
            account=str(e.get("account", self.accounts[0])),
            listing=listing,
            side=str(e.get("side", "BOT")).upper(),
            shares=float(e["shares"]),
            price=float(e["price"]),
            time=_parse_time(e.get("time", datetime.now(UTC))),
            exchange=str(e.get("exchange", listing.primary_exchange or listing.exchange)),
            commission=float(e.get("commission", 1.0)),
        )

    def value(self, key: str) -> str:
        return self.all_values().get(key, ("", ""))[0]

    def all_values(self) -> dict[str, tuple[str, str]]:
        from .ledger import computed_values

        merged = dict(DEFAULT_VALUES)
        if self.price_of is not None:
            merged.update(computed_values(self, self.price_of))
        merged.update(self.values)
        return merged


def _contract_11(lst: Listing, exchange: str) -> list[Any]:
    return [
        lst.con_id,
        lst.symbol,
        lst.sec_type,
        "",
        "0",
        "",
        "",
        exchange,
        lst.currency,
        lst.local_symbol,
        lst.trading_class,
    ]


def position_row(p: Position) -> list[Any]:
    """position (61, exactly 16 fields)."""
    exchange = p.listing.primary_exchange or p.listing.exchange
    return [61, 3, p.account, *_contract_11(p.listing, exchange), p.position, p.avg_cost]


def position_rows(book: AccountBook) -> list[list[Any]]:
    """position rows, then positionEnd."""
    return [*(position_row(p) for p in book.positions), [62, 1]]


def portfolio_row(p: Position, price: float) -> list[Any]:
    """updatePortfolio (7, 20 fields) at ``price``."""
    lst = p.listing
    value = price * p.position * lst.multiplier
    return [
        7,
        8,
        *_contract_11(lst, lst.primary_exchange or lst.exchange),
        p.position,
        price,
        round(value, 2),
        p.avg_cost,
        round(value - p.avg_cost * p.position, 2),
        round(book_realized(p), 2),
        p.account,
    ]


def book_realized(p: Position) -> float:
    return 0.0 if p.realized is None else p.realized


def account_update_rows(
    book: AccountBook,
    account: str,
    price_of: Callable[[Listing], float],
    now: datetime,
    tz_name: str,
) -> list[list[Any]]:
    """reqAccountUpdates: values (6), portfolio (7), time (8), end (54)."""
    rows: list[list[Any]] = [
        [6, 2, k, v, cur, account] for k, (v, cur) in book.all_values().items()
    ]
    rows += [portfolio_row(p, price_of(p.listing)) for p in book.positions if p.account == account]
    rows.append([8, 1, format_bar_time(now, tz_name)[9:14]])
    rows.append([54, 1, account])
    return rows


def account_multi_rows(book: AccountBook, req_id: int, account: str) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [73, 1, req_id, account, "", k, v, cur] for k, (v, cur) in book.all_values().items()
    ]
    return [*rows, [74, 1, req_id]]


def account_summary_rows(book: AccountBook, req_id: int, tags: str) -> list[list[Any]]:
    wanted = {t.strip() for t in tags.split(",") if t.strip()}
    values = book.all_values()
    keys = [k for k in values if not wanted or "All" in wanted or k in wanted]
    rows = [
        [63, 1, req_id, acct, k, values[k][0], values[k][1]] for acct in book.accounts for k in keys
    ]
    return [*rows, [64, 1, req_id]]


def execution_rows(book: AccountBook, req_id: int, tz_name: str, version: int) -> list[list[Any]]:
    """execDetails (11) + commissionReport (59) per fill, then execDetailsEnd."""
    rows: list[list[Any]] = []
    for e in book.executions:
        rows.append(execution_row(e, req_id, tz_name, version))
        rows.append(commission_row(e))
    return [*rows, [55, 1, req_id]]


def execution_row(e: Execution, req_id: int, tz_name: str, version: int) -> list[Any]:
    """execDetails: reqId -1 for a live fill, the request's id for reqExecutions."""
    row = [
        11,
        req_id,
        e.order_id,
        *_contract_11(e.listing, e.exchange),
        e.exec_id,
        format_bar_time(e.time, tz_name),
        e.account,
        e.exchange,
        e.side,
        e.shares,
        e.price,
        e.perm_id,
        e.client_id,
        0,  # liquidation
        e.cum_qty or e.shares,
        e.avg_price or e.price,
        "",  # orderRef
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        0,  # lastLiquidity
    ]
    if version >= 178:
        row.append(0)  # pendingPriceRevision
    return row


def commission_row(e: Execution) -> list[Any]:
    """commissionReport: exactly 8 fields; realized P&L only on a closing fill."""
    realized = "" if e.realized is None else round(e.realized, 2)
    return [59, 1, e.exec_id, round(e.commission, 4), e.listing.currency, realized, "", ""]
