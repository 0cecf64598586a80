"""Our conditions <-> ib_async's ``OrderCondition`` objects (what goes on the wire).

Symbols become the resolved security's conId and exchange; the time becomes TWS's
``YYYYMMDD HH:MM:SS <zone>``. Going back, conIds are named by ``names`` (conId ->
symbol), or ``#<conId>`` when unknown, which :func:`traderctl_orders.resolution` accepts.
ib_async is imported inside the functions (this module is imported by the CLI).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from traderctl.securities import SecurityDefinition
from traderctl_orders.conditions import (
    TRIGGER_METHODS,
    ChangeCond,
    Condition,
    ExecutionCond,
    MarginCond,
    PriceCond,
    TimeCond,
    VolumeCond,
)

_METHOD_NAMES = {v: k for k, v in TRIGGER_METHODS.items()}


def tws_time(at: datetime) -> str:
    """The form TWS expects in a TimeCondition: ``20261123 14:30:00 America/New_York``."""
    return f"{at:%Y%m%d %H:%M:%S} {at.tzinfo}"


def parse_tws_time(text: str) -> datetime:
    """TWS's time back into an aware datetime (no zone, or the dash form: UTC)."""
    text = text.strip()
    if len(text) >= 17 and text[8] == "-":
        return datetime.strptime(text[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    day, clock, *zone = text.split()
    naive = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - zone next
    return naive.replace(tzinfo=ZoneInfo(zone[0]) if zone else UTC)


def to_ib(c: Condition, secs: dict[str, SecurityDefinition], conjunction: str) -> Any:
    """One condition as the ib_async object placeOrder sends."""
    import ib_async

    if isinstance(c, PriceCond):
        sec = secs[c.symbol]
        return ib_async.PriceCondition(conjunction=conjunction, isMore=c.is_more,
                                       price=float(c.price), conId=sec.con_id,
                                       exch=sec.exchange, triggerMethod=TRIGGER_METHODS[c.method])
    if isinstance(c, TimeCond):
        return ib_async.TimeCondition(conjunction=conjunction, isMore=c.is_more,
                                      time=tws_time(c.at))
    if isinstance(c, MarginCond):
        return ib_async.MarginCondition(conjunction=conjunction, isMore=c.is_more,
                                        percent=c.percent)
    if isinstance(c, ExecutionCond):
        return ib_async.ExecutionCondition(conjunction=conjunction, secType=c.sec_type,
                                           exch=c.exchange, symbol=secs[c.symbol].symbol)
    sec = secs[c.symbol]
    if isinstance(c, VolumeCond):
        return ib_async.VolumeCondition(conjunction=conjunction, isMore=c.is_more,
                                        volume=c.volume, conId=sec.con_id, exch=sec.exchange)
    return ib_async.PercentChangeCondition(conjunction=conjunction, isMore=c.is_more,
                                           changePercent=float(c.percent), conId=sec.con_id,
                                           exch=sec.exchange)


def conditions_to_ib(conditions: list[Condition], any_of: bool,
                     secs: dict[str, SecurityDefinition]) -> list[Any]:
    """All of them, each joined to the next by AND (``"a"``) or OR (``"o"``)."""
    return [to_ib(c, secs, "o" if any_of else "a") for c in conditions]


def _decimal(value: Any) -> Decimal:
    return Decimal(repr(float(value))).normalize()


def _is_more(value: Any) -> bool:
    return str(value) not in ("0", "False", "false")


def from_ib(obj: Any, names: dict[int, str]) -> Condition:
    """An ib_async condition (e.g. decoded from openOrder) in our terms."""
    kind = int(obj.condType)

    def name(con_id: Any) -> str:
        return names.get(int(con_id), f"#{int(con_id)}")

    if kind == 1:
        return PriceCond(name(obj.conId), _is_more(obj.isMore), _decimal(obj.price),
                         _METHOD_NAMES.get(int(obj.triggerMethod), "default"))
    if kind == 3:
        return TimeCond(_is_more(obj.isMore), parse_tws_time(str(obj.time)))
    if kind == 4:
        return MarginCond(_is_more(obj.isMore), int(obj.percent))
    if kind == 5:
        return ExecutionCond(str(obj.symbol), str(obj.secType), str(obj.exch))
    if kind == 6:
        return VolumeCond(name(obj.conId), _is_more(obj.isMore), int(obj.volume))
    return ChangeCond(name(obj.conId), _is_more(obj.isMore), _decimal(obj.changePercent))


def condition_fields(obj: Any) -> dict[str, Any]:
    """An ib_async condition's fields, for --dry-run and --json."""
    from dataclasses import asdict

    return {"type": type(obj).__name__, **asdict(obj)}
