"""What ``order place`` was asked for (:class:`Ticket`) and the ib_async orders it becomes.

A ticket is validated before anything connects; :func:`build` turns it into one order or a
bracket (parent + take-profit + stop-loss, transmitted together, the children an OCA pair).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_orders.conditions import Condition, format_all
from traderctl_orders.wire import condition_fields, conditions_to_ib


class TicketError(ValueError):
    """Options that do not make an order (exit 2, nothing sent)."""


@dataclass(frozen=True)
class Ticket:
    symbol: str
    action: str
    quantity: Decimal
    order_type: str  # LMT MKT STP STP LMT TRAIL
    lmt: Decimal | None = None
    stp: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_percent: Decimal | None = None
    tif: str = "DAY"
    gtd: str = ""
    outside_rth: bool = False
    conditions: tuple[Condition, ...] = ()
    any_of: bool = False
    cancel_when_met: bool = False
    conditions_outside_rth: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    oca: str = ""
    account: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def conditions_text(self) -> str:
        return format_all(list(self.conditions), self.any_of)

    def reference_price(self) -> Decimal | None:
        """The price the notional limit uses without asking the market."""
        return self.lmt if self.lmt is not None else self.stp

    def describe(self) -> str:
        price = {"LMT": f" @ {self.lmt}", "STP": f" stop {self.stp}",
                 "STP LMT": f" stop {self.stp} limit {self.lmt}",
                 "TRAIL": f" trail {self.trail_amount or f'{self.trail_percent}%'}"}
        text = f"{self.action} {self.quantity} {self.symbol} {self.order_type}"
        gtd = f" {self.gtd}" if self.gtd else ""
        text += price.get(self.order_type, "") + f" {self.tif}{gtd}"
        if self.take_profit is not None or self.stop_loss is not None:
            text += f" bracket(take-profit {self.take_profit}, stop-loss {self.stop_loss})"
        return text


def decimal_option(text: str | None, name: str, positive: bool = True) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise TicketError(f"{name}: not a number: {text!r}") from None
    if not value.is_finite() or (positive and value <= 0):
        raise TicketError(f"{name}: must be a positive number, got {text!r}")
    return value


TIFS = ("DAY", "GTC", "IOC", "GTD")
TIF_HELP = "--tif: DAY, GTC, IOC, or GTD 'YYYYMMDD HH:MM:SS ZONE' (or 'YYYY-MM-DD HH:MM ZONE')"


def parse_tif(words: list[str]) -> tuple[str, str]:
    """``--tif`` words -> (tif, goodTillDate in TWS's form ``20301201 16:00:00 ZONE``).

    GTD takes TWS's form or the ``--when time`` one (``2030-12-01 16:00 America/New_York``);
    a zone is required and the moment must be in the future."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tif = words[0].upper() if words else ""
    rest = " ".join(words[1:]).split()
    if tif not in TIFS or (tif == "GTD") != bool(rest):
        raise TicketError(TIF_HELP)
    if tif != "GTD":
        return tif, ""
    if len(rest) != 3:
        raise TicketError(f"--tif GTD: expected a date, a time and a zone, got "
                          f"{' '.join(rest)!r}; {TIF_HELP}")
    day, clock, zone_name = rest
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TicketError(f"--tif GTD: unknown time zone {zone_name!r}") from None
    for fmt in ("%Y%m%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d %H:%M"):
        try:
            moment = datetime.strptime(f"{day} {clock}", fmt).replace(tzinfo=zone)
            break
        except ValueError:
            continue
    else:
        raise TicketError(f"--tif GTD: not a date and time: {day} {clock!r}; {TIF_HELP}")
    if moment <= datetime.now(zone):
        raise TicketError(f"--tif GTD: {moment:%Y-%m-%d %H:%M:%S} {zone_name} is in the past")
    return tif, f"{moment:%Y%m%d %H:%M:%S} {zone_name}"


def order_type(lmt: Decimal | None, mkt: bool, stp: Decimal | None, trail: str | None) -> str:
    """LMT | MKT | STP | STP LMT | TRAIL from the mutually exclusive options."""
    chosen = [n for n, v in (("--mkt", mkt), ("--stp", stp is not None),
                             ("--trail", trail is not None)) if v]
    if len(chosen) > 1:
        raise TicketError(f"choose one of --lmt, --mkt, --stp, --trail (got {' '.join(chosen)})")
    if stp is not None:
        return "STP LMT" if lmt is not None else "STP"
    if chosen and lmt is not None:
        raise TicketError(f"--lmt cannot be combined with {chosen[0]}")
    if mkt:
        return "MKT"
    if trail is not None:
        return "TRAIL"
    if lmt is None:
        raise TicketError("give a price type: --lmt PRICE, --mkt, --stp PRICE or --trail")
    return "LMT"


def _base_order(t: Ticket, action: str, kind: str, account: str) -> Any:
    from ib_async import Order

    order = Order(action=action, totalQuantity=float(t.quantity), orderType=kind, tif=t.tif,
                  outsideRth=t.outside_rth, account=account, transmit=True)
    if t.tif == "GTD":
        order.goodTillDate = t.gtd
    return order


def build(t: Ticket, secs: dict[str, SecurityDefinition], account: str) -> list[Any]:
    """The orders to place, parent first; children get parentId once the parent has an id."""
    parent = _base_order(t, t.action, t.order_type, account)
    if t.lmt is not None:
        parent.lmtPrice = float(t.lmt)
    if t.stp is not None:
        parent.auxPrice = float(t.stp)
    if t.trail_amount is not None:
        parent.auxPrice = float(t.trail_amount)
    if t.trail_percent is not None:
        parent.trailingPercent = float(t.trail_percent)
    parent.ocaGroup = t.oca
    if t.conditions:
        parent.conditions = conditions_to_ib(list(t.conditions), t.any_of, secs)
        parent.conditionsCancelOrder = t.cancel_when_met
        parent.conditionsIgnoreRth = t.conditions_outside_rth
    if t.take_profit is None and t.stop_loss is None:
        return [parent]
    reverse = "SELL" if t.action == "BUY" else "BUY"
    orders = [parent]
    parent.transmit = False
    if t.take_profit is not None:
        child = _base_order(t, reverse, "LMT", account)
        child.lmtPrice = float(t.take_profit)
        orders.append(child)
    if t.stop_loss is not None:
        child = _base_order(t, reverse, "STP", account)
        child.auxPrice = float(t.stop_loss)
        orders.append(child)
    for child in orders[1:]:
        child.transmit = False  # IB holds the bracket until its last order is transmitted
    orders[-1].transmit = True
    return orders


_SHOWN = ("action", "totalQuantity", "orderType", "lmtPrice", "auxPrice", "trailingPercent",
          "tif", "goodTillDate", "outsideRth", "account", "ocaGroup", "ocaType", "parentId",
          "transmit", "conditionsCancelOrder", "conditionsIgnoreRth", "orderId")


def order_fields(order: Any) -> dict[str, Any]:
    """An ib_async Order's fields that matter here (UNSET values left out)."""
    from ib_async.util import UNSET_DOUBLE

    out: dict[str, Any] = {}
    for name in _SHOWN:
        value = getattr(order, name)
        if value != UNSET_DOUBLE and value != "":
            out[name] = value
    out["conditions"] = [condition_fields(c) for c in order.conditions]
    return out
