"""IB's bar sizes, the largest duration one request may ask for each, and the profile
that paces them (tws-api historical_limitations step-size table).

Bars of 30 seconds or less fall under IB's hard pacing rules (``ib_historical_small``);
larger bars only under the 50-in-flight cap and a soft rate (``ib_historical``).
Daily bars (``1 day``) are one per trade date, asked for a year of trading days at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400
SMALL_BAR_SECONDS = 30


@dataclass(frozen=True)
class BarSize:
    name: str          # as IB spells it: "1 min", "30 secs"
    seconds: int
    max_seconds: int   # the largest duration IB answers for this size

    @property
    def small(self) -> bool:
        return self.seconds <= SMALL_BAR_SECONDS

    @property
    def profile(self) -> str:
        return "ib_historical_small" if self.small else "ib_historical"

    @property
    def daily(self) -> bool:
        """One bar per session: stamped at the session's open (see ``calendar``)."""
        return self.seconds >= DAY

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "")


_TABLE = [("1 secs", 1, 1800), ("5 secs", 5, 3600), ("10 secs", 10, 14400),
          ("15 secs", 15, 14400), ("30 secs", 30, 28800), ("1 min", 60, DAY),
          ("2 mins", 120, 2 * DAY), ("3 mins", 180, 7 * DAY), ("5 mins", 300, 7 * DAY),
          ("10 mins", 600, 7 * DAY), ("15 mins", 900, 7 * DAY), ("20 mins", 1200, 7 * DAY),
          ("30 mins", 1800, 30 * DAY), ("1 hour", 3600, 30 * DAY), ("2 hours", 7200, 30 * DAY),
          ("3 hours", 10800, 30 * DAY), ("4 hours", 14400, 30 * DAY),
          ("8 hours", 28800, 30 * DAY), ("1 day", DAY, 365 * DAY)]
BAR_SIZES = {name: BarSize(name, s, m) for name, s, m in _TABLE}
WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID_ASK", "ADJUSTED_LAST")


def bar_size(name: str) -> BarSize:
    """``"1 min"``, ``"1min"`` or ``"1 mins"`` -> the table entry; ValueError otherwise."""
    wanted = " ".join(name.split()).lower()
    for size in BAR_SIZES.values():
        if wanted in (size.name, size.slug, size.name.rstrip("s"), size.name + "s"):
            return size
    raise ValueError(f"unknown bar size {name!r}; one of: {', '.join(BAR_SIZES)}")
