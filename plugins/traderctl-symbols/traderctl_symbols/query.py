"""What the user asked for: ``SYMBOL[:EXCHANGE[:CURRENCY]]`` plus the command's defaults.

A :class:`SymbolQuery` is one request to IB (``reqContractDetails``); its :attr:`key` names
it in the universe store and the job queue, so the same question is asked once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any


class QueryError(ValueError):
    """A symbol argument or CSV row that cannot be a request."""


@dataclass(frozen=True)
class SymbolQuery:
    """One symbol as asked: ``exchange``/``currency`` empty when not given."""

    symbol: str
    exchange: str = ""
    currency: str = ""
    sec_type: str = "STK"
    route: str = "SMART"
    asked: str = field(default="", compare=False)  # the text as the user gave it

    @classmethod
    def parse(cls, text: str, sec_type: str = "STK", currency: str = "",
              route: str = "SMART") -> SymbolQuery:
        """``BHP``, ``BHP:ASX``, ``BHP:ASX:AUD``, ``BHP::AUD`` (any exchange); a part given in
        the text beats the default."""
        parts = [p.strip() for p in text.strip().split(":")]
        if not parts[0] or len(parts) > 3 or not parts[-1] or (len(parts) == 2 and not parts[1]):
            raise QueryError(f"bad symbol {text!r}: expected SYMBOL, SYMBOL:EXCHANGE, "
                             "SYMBOL:EXCHANGE:CURRENCY or SYMBOL::CURRENCY")
        symbol = parts[0].upper()
        exchange = parts[1].upper() if len(parts) > 1 else ""
        cur = parts[2].upper() if len(parts) > 2 else currency.upper()
        return cls(symbol, exchange, cur, sec_type.upper(), route.upper(), text.strip())

    @cached_property
    def key(self) -> str:
        """``STK:BHP:ASX:AUD@SMART``: everything that changes IB's answer."""
        return f"{self.sec_type}:{self.symbol}:{self.exchange}:{self.currency}@{self.route}"

    @property
    def text(self) -> str:
        """As asked, else ``SYMBOL[:EXCHANGE][:CURRENCY]`` (``SYMBOL::CUR`` without exchange)."""
        if self.asked:
            return self.asked
        if self.currency:
            return f"{self.symbol}:{self.exchange}:{self.currency}"
        return f"{self.symbol}:{self.exchange}" if self.exchange else self.symbol

    def contract_fields(self) -> dict[str, Any]:
        """The ib_async ``Contract`` keywords for this request.

        A requested exchange narrows by primary exchange while the route stays
        ``SMART`` (IB lists a stock once per route; ``BHP:ASX`` means "BHP whose home is
        ASX"); with route ``""`` it is sent as the exchange itself.
        """
        fields: dict[str, Any] = {"symbol": self.symbol, "secType": self.sec_type,
                                  "currency": self.currency,
                                  "exchange": self.route or self.exchange}
        if self.exchange and self.route:
            fields["primaryExchange"] = self.exchange
        return fields

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "exchange": self.exchange, "currency": self.currency,
                "sec_type": self.sec_type, "route": self.route, "asked": self.asked}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SymbolQuery:
        return cls(data["symbol"], data.get("exchange", ""), data.get("currency", ""),
                   data.get("sec_type", "STK"), data.get("route", "SMART"),
                   data.get("asked", ""))


def queries_from_csv(path: Path, sec_type: str, currency: str, route: str) -> list[SymbolQuery]:
    """A CSV with a ``symbol`` column (optional ``exchange``, ``currency``), or one symbol a line.

    Lines starting with ``#`` and blank lines are skipped; a bad row raises
    :class:`QueryError` naming ``file:line``.
    """
    text = path.read_text(encoding="utf-8-sig")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if "symbol" not in header:
        return [_parse_at(path, n, ln, sec_type, currency, route)
                for n, ln in enumerate(lines, 1)]
    out = []
    for n, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        parts = [row.get("symbol", ""), row.get("exchange", ""), row.get("currency", "")]
        while parts and not parts[-1]:
            parts.pop()
        out.append(_parse_at(path, n, ":".join(parts), sec_type, currency, route))
    return out


def _parse_at(path: Path, line: int, text: str, sec_type: str, currency: str,
              route: str) -> SymbolQuery:
    try:
        return SymbolQuery.parse(text, sec_type, currency, route)
    except QueryError as exc:
        raise QueryError(f"{path}:{line}: {exc}") from None
