"""IB's published limits as profiles (tws-api "historical data limitations", "message rate").

* ``ib_historical_small``: bars of 30 seconds or less. At most 60 requests in any
  10 minutes; no identical request within 15 s; fewer than six requests for the same
  contract, exchange and tick type within 2 s (IB flags the sixth, so five pass);
  a BID_ASK request counts twice. Each request counts in these windows from its reply
  (``Profile.until_reply``): TWS counts it on arrival, which our grant precedes by an
  unknown delay, and the reply follows.
* ``ib_historical``: larger bars. IB applies no hard pacing, only soft throttling:
  at most 50 requests open at once plus a soft rate from ``jobs.soft_rate``.
* ``ib_messages``: 45 messages per second, under IB's 50, and at most 5 awaiting their
  reply. TWS counts messages as it reads them: after a stall of its own (a GC pause, a
  busy event loop) it reads a backlog at once, and a window of its second then holds the
  backlog plus a full second of new messages. The backlog is at most what is in flight,
  so 45 per second plus 5 in flight never makes more than IB's 50 in any of its seconds.

Every period is multiplied by ``jobs.time_scale`` (the simulator runs IB's clocks faster)
and by ``1 + jobs.pacing_margin`` (requests reach TWS a little later than we grant them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traderctl.jobs.rules import (
    UNLIMITED,
    InFlight,
    Profile,
    Request,
    no_identical,
    per_group,
    per_window,
)

HISTORICAL_SMALL = Profile("ib_historical_small", windows=(
    per_window("ib_hist.600s", 60, 600.0),
    no_identical("ib_hist.identical", 15.0),
    per_group("ib_hist.burst", 5, 2.0),
), until_reply=True)
MESSAGES = Profile("ib_messages", windows=(per_window("ib_messages", 45, 1.0),),
                   in_flight=(InFlight("ib_messages.open", 5),))


def historical_large(count: int, per: float) -> Profile:
    return Profile("ib_historical", windows=(per_window("ib_hist_large.soft", count, per),),
                   in_flight=(InFlight("ib_hist.open", 50),))


def builtin_profiles(settings: Mapping[str, Any] | None = None) -> dict[str, Profile]:
    """Every profile by name, scaled by the ``jobs`` config section (or IB's real clock)."""
    settings = settings or {}
    soft = settings.get("soft_rate") or {"count": 60, "per": 60.0}
    factor = float(settings.get("time_scale", 1.0)) * (1 + float(settings.get("pacing_margin",
                                                                             0.0)))
    found = [HISTORICAL_SMALL, historical_large(soft["count"], soft["per"]), MESSAGES, UNLIMITED]
    return {p.name: p.scaled(factor) for p in found}


def historical_request(contract: str, exchange: str, what_to_show: str, end: str = "",
                       duration: str = "", bar_size: str = "") -> Request:
    """A historical-data request as the small-bar rules see it (BID_ASK costs two)."""
    group = f"{contract}|{exchange}|{what_to_show.upper()}"
    identity = f"{group}|{end}|{duration}|{bar_size}"
    return Request(identity, group, 2 if what_to_show.upper() == "BID_ASK" else 1)
