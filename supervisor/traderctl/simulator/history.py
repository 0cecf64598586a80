"""reqHistoricalData (20): parse, validate, window, and the historicalData reply.

Error choices, matching TWS and what ends the request in ib_async:

* malformed bar size / duration / whatToShow / end time -> **321** "Error
  validating request" exactly as TWS does. ib_async treats 321 as a warning,
  so the client waits for its own timeout (realistic, and worth testing).
* duration longer than IB's step-size table allows -> **162**
  "Historical Market Data Service error message:Time length exceed max.",
  which ib_async treats as an error and ends the request (empty list, or
  RequestError with ``RaiseRequestErrors``).
* pacing violation -> **162** "...Historical data request pacing violation".
* no bars in the window (weekend with useRTH, FX TRADES) -> **162** "HMDS query
  returned no data" / "No historical market data", as TWS does.
* unknown or ambiguous contract -> **200**.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import bars as b
from .clock import add_months, format_bar_time, parse_end_datetime
from .hours import Session
from .universe import ContractQuery, Listing

HISTORICAL_DATA = 17
HMDS = "Historical Market Data Service error message:"
WHAT_TO_SHOW = {
    "TRADES",
    "MIDPOINT",
    "BID",
    "ASK",
    "BID_ASK",
    "ADJUSTED_LAST",
    "HISTORICAL_VOLATILITY",
    "OPTION_IMPLIED_VOLATILITY",
}
_DURATION_RE = re.compile(r"^\s*(\d+)\s+([SDWMY])\s*$")
_UNIT_SECONDS = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400}
# Largest duration per bar size (historical_limitations.html step-size table).
MAX_DURATION = {
    1: 1800,
    5: 3600,
    10: 14400,
    15: 14400,
    30: 28800,
    60: 86400,
    120: 2 * 86400,
    180: 7 * 86400,
    300: 7 * 86400,
    600: 7 * 86400,
    900: 7 * 86400,
    1200: 7 * 86400,
    1800: 30 * 86400,
    3600: 30 * 86400,
    7200: 30 * 86400,
    10800: 30 * 86400,
    14400: 30 * 86400,
    28800: 30 * 86400,
}


class HistoryError(Exception):
    """A request TWS would answer with an error message instead of bars."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class HistRequest:
    req_id: int
    contract: ContractQuery
    end: str
    bar_size: str
    duration: str
    use_rth: bool
    what: str
    format_date: int
    keep_up_to_date: bool

    @classmethod
    def from_fields(cls, f: list[str]) -> HistRequest:
        def at(i: int) -> str:
            return f[i] if i < len(f) else ""

        contract = ContractQuery.from_fields(f[2:14])
        tail = 21
        if contract.sec_type.upper() == "BAG":
            legs = int(at(21) or 0)
            tail = 22 + 4 * legs
        return cls(
            req_id=int(f[1]),
            contract=contract,
            end=at(15),
            bar_size=at(16).strip(),
            duration=at(17),
            use_rth=at(18) not in ("", "0"),
            what=at(19).strip().upper(),
            format_date=int(at(20) or 1),
            keep_up_to_date=at(tail) not in ("", "0"),
        )

    def identity(self) -> tuple[Any, ...]:
        """Key for the 'identical request' pacing rule."""
        c = self.contract
        return (
            c.con_id,
            c.symbol,
            c.sec_type,
            c.exchange,
            c.currency,
            self.end,
            self.bar_size,
            self.duration,
            self.use_rth,
            self.what,
            self.format_date,
        )

    def burst_key(self, listing: Listing | None) -> tuple[Any, ...]:
        c = self.contract
        return (listing.con_id if listing else c.symbol, c.exchange, self.what)


def bar_step(bar_size: str) -> int:
    """Seconds per bar, or raise 321 with TWS's list of legal sizes."""
    name = b.BAR_ALIASES.get(bar_size, bar_size)
    if name not in b.BAR_SIZES:
        raise HistoryError(
            321,
            "Error validating request.-'bP' : cause - Historical data bar size "
            f"setting is invalid. Legal ones are: {b.LEGAL_BAR_SIZES}",
        )
    return b.BAR_SIZES[name]


def parse_duration(text: str) -> tuple[int, str]:
    match = _DURATION_RE.match(text.upper())
    if not match or int(match.group(1)) <= 0:
        raise HistoryError(
            321,
            f"Error validating request.-'bH' : cause - Historical data query duration "
            f"string is invalid: '{text}'. Format is 'integer{{SPACE}}unit (S|D|W|M|Y)'.",
        )
    return int(match.group(1)), match.group(2)


def validate(req: HistRequest, tws_tz: str, now: datetime) -> tuple[int, int, str, datetime]:
    """Check syntax and limits; return (step, n, unit, end)."""
    step = bar_step(req.bar_size)
    n, unit = parse_duration(req.duration)
    if req.what not in WHAT_TO_SHOW:
        raise HistoryError(
            321, f"Error validating request.-'bS' : cause - Invalid what to show: {req.what}"
        )
    try:
        end = parse_end_datetime(req.end, tws_tz, now)
    except (ValueError, KeyError) as exc:
        raise HistoryError(
            321,
            "Error validating request.-'bA' : cause - Historical data query end date/time "
            f"string [{req.end}] is invalid.  Format is "
            "'YYYYMMDD{SPACE}hh:mm:ss[{SPACE}TMZ]'.",
        ) from exc
    limit = MAX_DURATION.get(step)
    if limit is not None and n * _UNIT_SECONDS[unit] > limit:
        raise HistoryError(162, HMDS + "Time length exceed max.")
    return step, n, unit, min(end, now)


def window_start(listing: Listing, n: int, unit: str, end: datetime, rth: bool) -> datetime:
    """Start of the requested window; 'D' counts trading days like TWS."""
    if unit == "S":
        return end - timedelta(seconds=n)
    if unit == "D":
        cal = listing.calendar
        sessions = cal.sessions_between(end - timedelta(days=int(n * 1.6) + 8), end, rth)
        days = sorted({s.trade_date for s in sessions})[-n:]
        first = [s.open for s in sessions if days and s.trade_date == days[0]]
        return min(first) if first else end - timedelta(days=n)
    if unit == "W":
        return end - timedelta(weeks=n)
    return add_months(end, -n if unit == "M" else -12 * n)


def build_bars(
    req: HistRequest,
    listing: Listing,
    model: b.PriceModel,
    tws_tz: str,
    now: datetime,
    always_open: bool = False,
) -> list[Any]:
    """Validate and produce the historicalData message fields.

    ``always_open`` (the scenario's market switch) makes intraday history one
    continuous session, so bars agree with the live prices streamed at any hour.
    """
    step, n, unit, end = validate(req, tws_tz, now)
    if listing.sec_type == "CASH" and req.what in ("TRADES", "ADJUSTED_LAST"):
        raise HistoryError(
            162,
            HMDS + f"No historical market data for {listing.symbol}/CASH@"
            f"{listing.exchange} {req.what.title()} {req.bar_size}",
        )
    start = window_start(listing, n, unit, end, req.use_rth)
    sessions = listing.calendar.sessions_between(start, end, req.use_rth)
    if always_open and step < 86400:
        aligned = datetime.fromtimestamp(start.timestamp() // step * step, start.tzinfo)
        sessions = [Session(aligned, end, end.date())]
    rows: list[tuple[str, b.Bar]]
    if step >= 86400:
        daily = b.daily_bars(model, sessions, now, req.what)
        daily = [(lbl, bar) for lbl, bar in daily if bar.start < end]
        if unit == "D":
            daily = daily[-n:]
        name = b.BAR_ALIASES.get(req.bar_size, req.bar_size)
        rows = daily if step == 86400 else b.grouped_bars(daily, name)
    else:
        bars = b.intraday_bars(
            model, sessions, step, start, end, now, req.what, listing.time_zone_id
        )
        rows = [(_label(bar.start, req.format_date, tws_tz), bar) for bar in bars]
    if not rows:
        raise HistoryError(
            162,
            HMDS + f"HMDS query returned no data: {listing.local_symbol}@"
            f"{req.contract.exchange or listing.exchange} {req.what.title()}",
        )
    fields: list[Any] = [
        HISTORICAL_DATA,
        req.req_id,
        format_bar_time(start, tws_tz),
        format_bar_time(end, tws_tz),
        len(rows),
    ]
    for label, bar in rows:
        fields += [label, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.wap, bar.count]
    return fields


def _label(ts: datetime, format_date: int, tws_tz: str) -> str:
    if format_date == 2:
        return str(int(ts.timestamp()))
    return format_bar_time(ts, tws_tz)
