"""Market rules (reqMarketRule, 91 -> marketRule, 93): price increments by price level.

Contract details list one rule id per valid exchange (``marketRuleIds``);
each id resolves here to its (lowEdge, increment) table. Ids 26 (US stocks,
0.01) and 239 (FX, 0.00005) are the ones IB uses; the others are assigned
per tick table by this simulator: 110 for US options (0.01 below 3.00,
0.05 above), and for any other minimum tick a stable id derived from it.
"""

from __future__ import annotations

from typing import Any

from .universe import Listing

MARKET_RULE = 93
FIXED: dict[int, tuple[tuple[float, float], ...]] = {
    26: ((0.0, 0.01),),
    239: ((0.0, 0.00005),),
    110: ((0.0, 0.01), (3.0, 0.05)),
}
_BY_TICK = {0.01: 26, 0.00005: 239}


def _tick_rule(tick: float) -> int:
    """A stable id for a one-step table of ``tick`` (1000 + tick in millionths)."""
    return _BY_TICK.get(tick, 1000 + round(tick * 1_000_000))


def market_rule_id(lst: Listing) -> int:
    if lst.sec_type == "OPT":
        return 110
    return _tick_rule(lst.min_tick or 0.01)


def market_rule(rule_id: int) -> list[Any] | None:
    """The marketRule message, or None for an id no listing uses."""
    table = FIXED.get(rule_id)
    if table is None and rule_id >= 1000:
        table = ((0.0, (rule_id - 1000) / 1_000_000),)
    if table is None:
        return None
    fields: list[Any] = [MARKET_RULE, rule_id, len(table)]
    for low, inc in table:
        fields += [low, inc]
    return fields
