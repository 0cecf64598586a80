"""Deterministic prices: a function of instrument, size, side and tick, nothing random.

The same (instrument, levels) subscription always produces the same sequence of frames,
which lets tests assert exact prices.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

BASES: dict[str, Decimal] = {
    "BTCUSD": Decimal("50000"), "ETHUSD": Decimal("3000"), "LTCUSD": Decimal("100"),
    "XRPUSD": Decimal("0.5"), "BTCEUR": Decimal("46000"), "ETHBTC": Decimal("0.06"),
}
INSTRUMENTS: tuple[str, ...] = (
    *(f"{u}.SPOT" for u in BASES), "BTCUSD.CFD", "ETHUSD.CFD")


def underlier(instrument: str) -> str:
    return instrument.split(".")[0]


def split_pair(instrument: str) -> tuple[str, str]:
    u = underlier(instrument)
    return u[:3], u[3:]


def mid(instrument: str, tick: int) -> Decimal:
    """A slow sine around the base price: +-0.2% with a period of ~44 ticks."""
    base = BASES[underlier(instrument)]
    return base * (1 + Decimal(str(round(0.002 * math.sin(tick / 7), 8))))


def price(instrument: str, side: str, quantity: Decimal, tick: int) -> Decimal:
    """``buy`` is the ask (what the client pays), ``sell`` the bid; wider for bigger sizes."""
    spread_bps = 2 + min(quantity, Decimal(100)) / 10
    sign = 1 if side == "buy" else -1
    raw = mid(instrument, tick) * (1 + sign * spread_bps / 10000)
    step = Decimal("0.01") if raw >= 10 else Decimal("0.000001")
    return raw.quantize(step, rounding=ROUND_HALF_UP)


def frame_levels(instrument: str, levels: list[Decimal], tick: int
                 ) -> dict[str, list[dict[str, str]]]:
    return {side: [{"quantity": str(q), "price": str(price(instrument, side, q, tick))}
                   for q in levels] for side in ("buy", "sell")}
