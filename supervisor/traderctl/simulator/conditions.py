"""Evaluate order conditions against the simulated market.

A conditional order waits as PreSubmitted until its conditions hold, then it
becomes Submitted (or Cancelled with ``conditionsCancelOrder``). Prices,
volumes and percent changes come from the same synthetic model as the bars
and the market data (a volume condition sees tick 8's volume of the day,
which simulated fills and ``VOLUME`` prints add to);
margin cushion from the account book; execution conditions look at
fills booked after the order arrived (the matching engine's, or a
scenario's). Conjunctions are applied left to right: each condition's
``conjunction`` ("a"/"o") joins it to the next one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import parse_end_datetime
from .universe import Listing

if TYPE_CHECKING:
    from .account import Execution
    from .market import Market


class ConditionContext:
    """What a condition can look at (``since``: when the order being checked arrived)."""

    def __init__(
        self,
        now: datetime,
        tz_name: str,
        market: Market,
        listing_for: Callable[[int], Listing | None],
        cushion: float,
        executions: list[Execution] | None = None,
    ) -> None:
        self.now = now
        self.tz_name = tz_name
        self.market = market
        self.listing_for = listing_for
        self.cushion = cushion
        self.executions = executions or []
        self.since = now


def _compare(value: float, level: float, is_more: Any) -> bool:
    return value >= level if str(is_more) not in ("0", "False", "false") else value <= level


def _price(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    """Trigger methods: 0/2 last, 1/3 double (two passes in a row), 4 bid/ask, 7 last or
    bid/ask, 8 midpoint; bid/ask compares the bid for "more than", the ask for "less"."""
    listing = ctx.listing_for(int(cond.get("conId") or 0))
    if listing is None:
        return False
    bid, ask, last = ctx.market.touch(listing, ctx.now.timestamp())
    level, more = float(cond.get("price") or 0), cond.get("isMore")
    method = int(cond.get("triggerMethod") or 0)
    side = bid if _is_more(more) else ask
    if method in (1, 4):
        hit = _compare(side, level, more)
    elif method == 7:
        hit = _compare(last, level, more) or _compare(side, level, more)
    elif method == 8:
        hit = _compare((bid + ask) / 2, level, more)
    else:
        hit = _compare(last, level, more)
    if method in (1, 3):  # "double": true on two consecutive evaluations
        streak = cond["_streak"] = cond.get("_streak", 0) + 1 if hit else 0
        return bool(streak >= 2)
    return hit


def _is_more(is_more: Any) -> bool:
    return str(is_more) not in ("0", "False", "false")


def _execution(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    """Another order of this login filled (symbol, secType, exchange) after this one arrived."""
    symbol = str(cond.get("symbol", "")).upper()
    sec_type = str(cond.get("secType", "")).upper()
    exch = str(cond.get("exch", "")).upper()
    for e in ctx.executions:
        if e.time < ctx.since or e.listing.symbol.upper() != symbol:
            continue
        if sec_type and e.listing.sec_type != sec_type:
            continue
        if exch and exch != "SMART" and not e.listing.accepts_exchange(exch):
            continue
        return True
    return False


def _time(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    try:
        when = parse_end_datetime(str(cond.get("time", "")), ctx.tz_name, ctx.now)
    except (ValueError, KeyError):
        return False
    return ctx.now >= when if str(cond.get("isMore")) not in ("0", "False") else ctx.now <= when


def _margin(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    return _compare(ctx.cushion * 100.0, float(cond.get("percent") or 0), cond.get("isMore"))


def _volume(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    """Today's volume as market data shows it (the path's, plus fills and VOLUME prints)."""
    listing = ctx.listing_for(int(cond.get("conId") or 0))
    if listing is None:
        return False
    volume = ctx.market.quote(listing, ctx.now.timestamp()).volume
    return _compare(volume, float(cond.get("volume") or 0), cond.get("isMore"))


def _percent_change(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    listing = ctx.listing_for(int(cond.get("conId") or 0))
    if listing is None:
        return False
    sessions = listing.calendar.sessions_between(ctx.now - timedelta(days=7), ctx.now, rth=True)
    closed = [s for s in sessions if s.close <= ctx.now]
    if not closed:
        return False
    prev = ctx.market.price(listing, closed[-1].close.timestamp())
    change = (ctx.market.price(listing, ctx.now.timestamp()) / prev - 1.0) * 100.0
    return _compare(change, float(cond.get("changePercent") or 0), cond.get("isMore"))


_EVALUATORS: dict[int, Callable[[dict[str, Any], ConditionContext], bool]] = {
    1: _price,
    3: _time,
    4: _margin,
    5: _execution,
    6: _volume,
    7: _percent_change,
}


def conditions_met(conditions: list[dict[str, Any]], ctx: ConditionContext) -> bool:
    """Combine the conditions with their AND/OR conjunctions, left to right."""
    if not conditions:
        return True
    result = _evaluate(conditions[0], ctx)
    for prev, cond in itertools.pairwise(conditions):
        value = _evaluate(cond, ctx)
        result = (
            (result or value)
            if str(prev.get("conjunction", "a")).lower() == "o"
            else (result and value)
        )
    return result


def _evaluate(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    evaluator = _EVALUATORS.get(int(cond.get("condType") or 0))
    return evaluator(cond, ctx) if evaluator else False
