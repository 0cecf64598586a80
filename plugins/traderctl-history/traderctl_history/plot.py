"""``history plot``: candles and volume in a PNG (matplotlib, Agg; imported only here).

Bars are placed one per slot, so nights and weekends take no room; each session's first
bar gets a tick labelled with its exchange-local open time and a dashed line, the last
bar one with its close, so the axis shows where sessions begin and end. Daily bars (one
per session) get a tick per week instead, labelled with the date, and dates in the title.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from traderctl.securities import SecurityDefinition


def plot(sec: SecurityDefinition, frame: Any, out: Path, daily: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    local = frame.index.tz_convert(sec.zone)
    xs = range(len(frame))
    fig, (price, volume) = plt.subplots(2, 1, sharex=True, figsize=(12, 6),
                                        gridspec_kw={"height_ratios": [3, 1]})
    up = (frame["close"] >= frame["open"]).to_numpy()
    colors = ["#26a69a" if u else "#ef5350" for u in up]
    price.vlines(xs, frame["low"], frame["high"], colors=colors, linewidth=0.6)
    bottoms = frame[["open", "close"]].min(axis=1)
    heights = (frame["close"] - frame["open"]).abs().clip(lower=1e-9)
    price.bar(xs, heights, bottom=bottoms, color=colors, width=0.7)
    volume.bar(xs, frame["volume"], color=colors, width=0.7)
    ticks, labels = week_ticks(local) if daily else session_ticks(frame, local)
    for x in ticks:
        price.axvline(x - 0.5, color="#999999", linestyle="--", linewidth=0.5)
    volume.set_xticks(ticks, labels, fontsize=7)
    when = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
    price.set_title(f"{sec.symbol} {sec.primary_exchange or sec.exchange} {sec.currency} "
                    f"({sec.time_zone_id}): {local[0]:{when}} to {local[-1]:{when}}"
                    + (", daily" if daily else ""))
    price.set_ylabel(f"price ({sec.currency})")
    volume.set_ylabel("volume")
    volume.set_xlabel("first session of each week (trade date)" if daily
                      else f"session open / close, exchange time ({sec.zone})")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def week_ticks(local: Any) -> tuple[list[int], list[str]]:
    """Daily bars: a tick at the first session of each ISO week, labelled with its date."""
    ticks: list[int] = []
    labels: list[str] = []
    seen: set[tuple[int, int]] = set()
    for i, t in enumerate(local):
        week = t.isocalendar()[:2]
        if week not in seen:
            seen.add(week)
            if ticks and i - ticks[-1] < 3:  # a short first week: its label would overlap
                ticks.pop()
                labels.pop()
            ticks.append(i)
            labels.append(f"{t:%a\n%Y-%m-%d}")
    return ticks, labels


def session_ticks(frame: Any, local: Any) -> tuple[list[int], list[str]]:
    """One tick per session boundary (a gap longer than two bars starts a session),
    labelled with the close before it and the open after it, in exchange time."""
    stamps = list(frame.index)
    step = min((b - a for a, b in pairwise(stamps)), default=None)
    ticks, labels = [0], [f"open {local[0]:%a %m-%d %H:%M}"]
    for i in range(1, len(stamps)):
        if step is not None and stamps[i] - stamps[i - 1] > 2 * step:
            ticks.append(i)
            labels.append(f"close {(local[i - 1] + step):%H:%M}\n"
                          f"open {local[i]:%a %m-%d %H:%M}")
    ticks.append(len(stamps) - 1)
    labels.append(f"last bar {local[-1]:%H:%M}")
    return ticks, labels
