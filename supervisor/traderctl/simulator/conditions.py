"""Evaluate order conditions against the simulated market.

A conditional order waits as PreSubmitted until its conditions hold, then it
becomes Submitted (or Cancelled with ``conditionsCancelOrder``). Prices,
volumes and percent changes come from the same synthetic model as the bars;
margin cushion from the account book; execution conditions look at
executions booked after the order arrived (none, unless a scenario or test
adds them). Conjunctions are applied left to right: each condition's
``conjunction`` ("a"/"o") joins it to the next one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .bars import PriceModel
from .clock import parse_end_datetime
from .universe import Listing


class ConditionContext:
    """What a condition can look at."""

    def __init__(
        self,
        now: datetime,
        tz_name: str,
        model_for: Callable[[int], PriceModel | None],
        listing_for: Callable[[int], Listing | None],
        cushion: float,
    ) -> None:
        self.now = now
        self.tz_name = tz_name
        self.model_for = model_for
        self.listing_for = listing_for
        self.cushion = cushion


def _compare(value: float, level: float, is_more: Any) -> bool:
    return value >= level if str(is_more) not in ("0", "False", "false") else value <= level


def _price(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    model = ctx.model_for(int(cond.get("conId") or 0))
    if model is None:
        return False
    return _compare(
        model.price(ctx.now.timestamp()), float(cond.get("price") or 0), cond.get("isMore")
    )


def _time(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    try:
        when = parse_end_datetime(str(cond.get("time", "")), ctx.tz_name, ctx.now)
    except (ValueError, KeyError):
        return False
    return ctx.now >= when if str(cond.get("isMore")) not in ("0", "False") else ctx.now <= when


def _margin(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    return _compare(ctx.cushion * 100.0, float(cond.get("percent") or 0), cond.get("isMore"))


def _volume(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    listing = ctx.listing_for(int(cond.get("conId") or 0))
    if listing is None:
        return False
    sessions = listing.calendar.sessions_between(ctx.now - timedelta(days=1), ctx.now, rth=True)
    today = [s for s in sessions if s.open <= ctx.now]
    if not today:
        return _compare(0.0, float(cond.get("volume") or 0), cond.get("isMore"))
    sess = today[-1]
    elapsed = min((ctx.now - sess.open).total_seconds(), (sess.close - sess.open).total_seconds())
    volume = listing.avg_volume * elapsed / max((sess.close - sess.open).total_seconds(), 1.0)
    return _compare(volume, float(cond.get("volume") or 0), cond.get("isMore"))


def _percent_change(cond: dict[str, Any], ctx: ConditionContext) -> bool:
    model = ctx.model_for(int(cond.get("conId") or 0))
    listing = ctx.listing_for(int(cond.get("conId") or 0))
    if model is None or listing is None:
        return False
    sessions = listing.calendar.sessions_between(ctx.now - timedelta(days=7), ctx.now, rth=True)
    closed = [s for s in sessions if s.close <= ctx.now]
    if not closed:
        return False
    prev = model.price(closed[-1].close.timestamp())
    change = (model.price(ctx.now.timestamp()) / prev - 1.0) * 100.0
    return _compare(change, float(cond.get("changePercent") or 0), cond.get("isMore"))


_EVALUATORS: dict[int, Callable[[dict[str, Any], ConditionContext], bool]] = {
    1: _price,
    3: _time,
    4: _margin,
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
