"""The rule that picks one security when IB answers a symbol with several.

IB answers ``BHP`` (route SMART, no currency) with the ASX share in AUD and the NYSE ADR
in USD. The script this plugin replaces took the first; here every candidate is kept and
one is chosen by these steps, in order, each applied only when it leaves at least one:

1. ``requested``: the exchange (as primary exchange) and currency the user asked for;
2. ``prefer-primary``: the first primary exchange of ``--prefer-primary`` (config
   ``symbols.prefer_primary``) that some candidate has;
3. ``currency``: the first candidate whose currency is ``symbols.prefer_currency``;
4. ``lowest-conid``: otherwise the lowest conId, a tie-break that does not depend on the
   order of IB's replies.

The step that decided is reported as the rule (``only`` when there was one candidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from traderctl.securities import SecurityDefinition
from traderctl_symbols.query import SymbolQuery

RULE = ("requested exchange/currency", "prefer-primary (--prefer-primary, "
        "symbols.prefer_primary)", "currency (symbols.prefer_currency)", "lowest-conid")


@dataclass(frozen=True)
class Choice:
    chosen: SecurityDefinition
    rule: str
    candidates: tuple[SecurityDefinition, ...]


def choose(query: SymbolQuery, candidates: Sequence[SecurityDefinition],
           prefer_primary: Sequence[str] = (), prefer_currency: str = "") -> Choice:
    """The chosen candidate and the rule that chose it (see the module doc)."""
    if not candidates:
        raise ValueError(f"no candidates for {query.text}")
    if len(candidates) == 1:
        return Choice(candidates[0], "only", tuple(candidates))
    found = tuple(sorted(set(candidates), key=lambda s: s.con_id))
    if len(found) == 1:
        return Choice(found[0], "only", found)
    pool, rule = list(found), "lowest-conid"
    asked = [s for s in pool if _matches_request(query, s)]
    if (query.exchange or query.currency) and asked:
        pool, rule = asked, "requested"
    if len(pool) > 1:
        for exchange in prefer_primary:
            preferred = [s for s in pool if s.primary_exchange == exchange.upper()]
            if preferred:
                pool, rule = preferred, f"prefer-primary:{exchange.upper()}"
                break
    if len(pool) > 1 and prefer_currency:
        in_currency = [s for s in pool if s.currency == prefer_currency.upper()]
        if in_currency:
            pool, rule = in_currency, f"currency:{prefer_currency.upper()}"
    if len(pool) > 1:
        rule = "lowest-conid"
    return Choice(pool[0], rule, found)


def _matches_request(query: SymbolQuery, sec: SecurityDefinition) -> bool:
    if query.exchange and query.exchange not in (sec.primary_exchange, sec.exchange):
        return False
    return not query.currency or sec.currency == query.currency
