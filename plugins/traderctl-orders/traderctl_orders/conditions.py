"""The ``--when`` condition grammar: one expression per IB order condition.

Pure Python (no ib_async): :func:`parse` turns one expression into a condition value,
:func:`format_condition` prints it back so that ``parse(format_condition(c)) == c``.
Symbols stay text here; :mod:`traderctl_orders.wire` resolves them to conId/exchange.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

GRAMMAR = """\
condition grammar (one per --when; joined by AND, or OR with --any):
  price SYMBOL OP PRICE [via METHOD]      price AAPL >= 150 via last
  time OP YYYY-MM-DD HH:MM[:SS] ZONE      time >= 2026-11-23 14:30 America/New_York
  margin OP PERCENT%                      margin < 20%
  execution SYMBOL [SECTYPE [EXCHANGE]]   execution MSFT STK SMART
  volume SYMBOL OP SHARES                 volume AAPL > 1000000
  change SYMBOL OP PERCENT%               change AAPL <= -3%
OP: >= or > (at or above), <= or < (at or below)
METHOD: default, double-bid-ask, last, double-last, bid-ask, last-or-bid-ask, mid-point"""

# IB's PriceCondition.TriggerMethodEnum values.
TRIGGER_METHODS = {"default": 0, "double-bid-ask": 1, "last": 2, "double-last": 3,
                   "bid-ask": 4, "last-or-bid-ask": 7, "mid-point": 8}
KINDS = ("price", "time", "margin", "execution", "volume", "change")
_OPERATORS = {">=": True, ">": True, "<=": False, "<": False}
_SYMBOL = re.compile(r"^[A-Za-z0-9#][A-Za-z0-9.:/_#-]*$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class ConditionError(ValueError):
    """A ``--when`` expression that does not parse; names the offending token."""

    def __init__(self, expression: str, token: str, reason: str) -> None:
        self.expression, self.token, self.reason = expression, token, reason
        super().__init__(f"--when {expression!r}: {reason} at {token!r}\n{GRAMMAR}")


@dataclass(frozen=True)
class PriceCond:
    symbol: str
    is_more: bool
    price: Decimal
    method: str = "default"


@dataclass(frozen=True)
class TimeCond:
    is_more: bool
    at: datetime  # aware, in the zone the user named


@dataclass(frozen=True)
class MarginCond:
    is_more: bool
    percent: int


@dataclass(frozen=True)
class ExecutionCond:
    symbol: str
    sec_type: str = "STK"
    exchange: str = "SMART"


@dataclass(frozen=True)
class VolumeCond:
    symbol: str
    is_more: bool
    volume: int


@dataclass(frozen=True)
class ChangeCond:
    symbol: str
    is_more: bool
    percent: Decimal


Condition = PriceCond | TimeCond | MarginCond | ExecutionCond | VolumeCond | ChangeCond


class _Tokens:
    """The expression's tokens with a cursor; every failure names the token."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.items = expression.split()
        self.pos = 0

    def fail(self, reason: str, token: str | None = None) -> ConditionError:
        if token is None:
            token = self.items[self.pos] if self.pos < len(self.items) else "<end>"
        return ConditionError(self.expression, token, reason)

    def next(self, what: str) -> str:
        if self.pos >= len(self.items):
            raise self.fail(f"expected {what}")
        self.pos += 1
        return self.items[self.pos - 1]

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def end(self) -> None:
        if self.pos < len(self.items):
            raise self.fail("unexpected token")

    def symbol(self) -> str:
        token = self.next("a symbol")
        if not _SYMBOL.match(token) or token in _OPERATORS:
            raise self.fail("expected a symbol", token)
        return token

    def operator(self) -> bool:
        token = self.next("an operator (>=, <=)")
        if token not in _OPERATORS:
            raise self.fail("expected an operator (>=, >, <=, <)", token)
        return _OPERATORS[token]

    def number(self, what: str, percent: bool = False) -> Decimal:
        token = self.next(what)
        text = token
        if percent:
            if not text.endswith("%"):
                raise self.fail(f"expected {what} ending in %", token)
            text = text[:-1]
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self.fail(f"expected {what}", token) from None
        if not value.is_finite():
            raise self.fail(f"expected {what}", token)
        return value


def parse(expression: str) -> Condition:
    """One ``--when`` expression -> its condition; :class:`ConditionError` otherwise."""
    tokens = _Tokens(expression)
    kind = tokens.next("a condition kind (" + ", ".join(KINDS) + ")").lower()
    parser = _PARSERS.get(kind)
    if parser is None:
        raise tokens.fail("unknown condition kind", tokens.items[0])
    condition = parser(tokens)
    tokens.end()
    return condition


def _price(t: _Tokens) -> PriceCond:
    symbol, is_more = t.symbol(), t.operator()
    price = t.number("a price")
    method = "default"
    if t.peek() is not None:
        if t.next("via").lower() != "via":
            raise t.fail("expected 'via METHOD' or the end", t.items[t.pos - 1])
        method = t.next("a trigger method").lower()
        if method not in TRIGGER_METHODS:
            raise t.fail("unknown trigger method", t.items[t.pos - 1])
    return PriceCond(symbol, is_more, price, method)


def _time(t: _Tokens) -> TimeCond:
    is_more = t.operator()
    day, clock = t.next("a date YYYY-MM-DD"), t.next("a time HH:MM")
    try:
        naive = datetime.strptime(day, "%Y-%m-%d")  # noqa: DTZ007 - zone applied below
    except ValueError:
        raise t.fail("expected a date YYYY-MM-DD", day) from None
    try:
        fmt = "%H:%M:%S" if clock.count(":") == 2 else "%H:%M"
        moment = datetime.strptime(clock, fmt)  # noqa: DTZ007 - zone applied below
    except ValueError:
        raise t.fail("expected a time HH:MM or HH:MM:SS", clock) from None
    name = t.next("a time zone (e.g. America/New_York); a zone is required")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise t.fail("unknown time zone", name) from None
    return TimeCond(is_more, naive.replace(hour=moment.hour, minute=moment.minute,
                                           second=moment.second, tzinfo=zone))


def _margin(t: _Tokens) -> MarginCond:
    is_more = t.operator()
    value = t.number("a margin cushion percent", percent=True)
    if value != value.to_integral_value() or not 0 <= value <= 100:
        raise t.fail("expected a whole percent 0..100%", t.items[t.pos - 1])
    return MarginCond(is_more, int(value))


def _execution(t: _Tokens) -> ExecutionCond:
    symbol = t.symbol()
    sec_type = t.peek() or "STK"
    if t.peek() is not None:
        t.next("a secType")
        if not _WORD.match(sec_type):
            raise t.fail("expected a secType (STK, FUT, OPT, ...)", sec_type)
    exchange = "SMART"
    if t.peek() is not None:
        exchange = t.next("an exchange")
        if not _WORD.match(exchange):
            raise t.fail("expected an exchange", exchange)
    return ExecutionCond(symbol, sec_type.upper(), exchange.upper())


def _volume(t: _Tokens) -> VolumeCond:
    symbol, is_more = t.symbol(), t.operator()
    value = t.number("a volume (shares)")
    if value != value.to_integral_value() or value < 0:
        raise t.fail("expected a whole number of shares", t.items[t.pos - 1])
    return VolumeCond(symbol, is_more, int(value))


def _change(t: _Tokens) -> ChangeCond:
    symbol, is_more = t.symbol(), t.operator()
    return ChangeCond(symbol, is_more, t.number("a percent change", percent=True))


_PARSERS: dict[str, Callable[[_Tokens], Condition]] = {
    "price": _price, "time": _time, "margin": _margin, "execution": _execution,
    "volume": _volume, "change": _change}


def _op(is_more: bool) -> str:
    return ">=" if is_more else "<="


def _num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_condition(c: Condition) -> str:
    """The expression that parses back to ``c``."""
    if isinstance(c, PriceCond):
        via = "" if c.method == "default" else f" via {c.method}"
        return f"price {c.symbol} {_op(c.is_more)} {_num(c.price)}{via}"
    if isinstance(c, TimeCond):
        return f"time {_op(c.is_more)} {c.at:%Y-%m-%d %H:%M:%S} {c.at.tzinfo}"
    if isinstance(c, MarginCond):
        return f"margin {_op(c.is_more)} {c.percent}%"
    if isinstance(c, ExecutionCond):
        return f"execution {c.symbol} {c.sec_type} {c.exchange}"
    if isinstance(c, VolumeCond):
        return f"volume {c.symbol} {_op(c.is_more)} {c.volume}"
    return f"change {c.symbol} {_op(c.is_more)} {_num(c.percent)}%"


def format_all(conditions: list[Condition], any_of: bool) -> str:
    """Conditions joined the way they are sent: AND, or OR with ``--any``."""
    return (" OR " if any_of else " AND ").join(format_condition(c) for c in conditions)


def symbols_of(conditions: list[Condition]) -> list[str]:
    """Symbols the conditions name (resolved to conId/exchange before sending)."""
    return [c.symbol for c in conditions
            if isinstance(c, PriceCond | VolumeCond | ChangeCond | ExecutionCond)]
