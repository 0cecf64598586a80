"""From a wanted range and what the store holds to the fewest requests IB will answer.

The wanted range is cut to the exchange's sessions (:mod:`traderctl_history.calendar`),
minus what the store covers (bars written, or ranges IB said had no data). The pieces
left are grouped into requests no longer than IB's largest duration for the bar size:
up to a day as ``"<n> S"`` ending at the group's end, longer groups of whole sessions
as ``"<k> D"`` (IB counts trading days back from the end, like the planner did).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from traderctl_history.barsizes import DAY, BarSize
from traderctl_history.calendar import Calendar, Span


@dataclass(frozen=True)
class Chunk:
    """One request: the spans it covers, what IB is asked for."""

    pieces: tuple[Span, ...]
    end: str          # endDateTime, UTC form "YYYYMMDD-HH:MM:SS"
    duration: str     # durationStr

    @property
    def start(self) -> datetime:
        return self.pieces[0][0]

    @property
    def stop(self) -> datetime:
        return self.pieces[-1][1]


def subtract(spans: list[Span], covered: list[Span]) -> list[Span]:
    """``spans`` minus the union of ``covered`` (both sorted lists of ``[lo, hi)``)."""
    out = []
    for lo, hi in spans:
        for c_lo, c_hi in covered:
            if c_hi <= lo or c_lo >= hi:
                continue
            if c_lo > lo:
                out.append((lo, c_lo))
            lo = max(lo, c_hi)
            if lo >= hi:
                break
        if lo < hi:
            out.append((lo, hi))
    return out


def split(spans: list[Span], longest: int) -> list[Span]:
    """Cut spans longer than ``longest`` seconds into parts of at most that length."""
    step = timedelta(seconds=longest)
    out = []
    for lo, hi in spans:
        while hi - lo > step:
            out.append((lo, lo + step))
            lo += step
        out.append((lo, hi))
    return out


def plan(calendar: Calendar, size: BarSize, start: datetime, end: datetime,
         covered: list[Span]) -> list[Chunk]:
    """The requests that fetch every missing bar in ``[start, end)``."""
    sessions = calendar.between(start, end)
    whole = set(sessions)
    zone = calendar.security.zone
    missing = split(subtract(sessions, sorted(covered)), min(size.max_seconds, DAY))
    chunks: list[Chunk] = []
    group: list[Span] = []
    for piece in missing:
        if group and not _fits([*group, piece], size, whole, zone):
            chunks.append(_chunk(group, zone))
            group = []
        group.append(piece)
    if group:
        chunks.append(_chunk(group, zone))
    return chunks


def _days(group: list[Span], zone: tzinfo) -> int:
    return len({hi.astimezone(zone).date() for _, hi in group})


def _fits(group: list[Span], size: BarSize, whole: set[Span], zone: tzinfo) -> bool:
    span = (group[-1][1] - group[0][0]).total_seconds()
    if span <= min(size.max_seconds, DAY):
        return True
    # IB's limit holds for the calendar span and for the trading days counted back
    return (span <= size.max_seconds and all(p in whole for p in group)
            and _days(group, zone) * DAY <= size.max_seconds)


def _chunk(group: list[Span], zone: tzinfo) -> Chunk:
    span = (group[-1][1] - group[0][0]).total_seconds()
    end = group[-1][1].strftime("%Y%m%d-%H:%M:%S")
    if span <= DAY:
        return Chunk(tuple(group), end, f"{max(1, math.ceil(span))} S")
    return Chunk(tuple(group), end, f"{_days(group, zone)} D")


def minimum_requests(calendar: Calendar, size: BarSize, start: datetime,
                     end: datetime) -> int:
    """The fewest windows of IB's largest duration that cover every session minute in
    ``[start, end)`` (greedy from the left is optimal on a line): the benchmark's anchor."""
    step = timedelta(seconds=size.max_seconds)
    count, reach = 0, None
    for lo, hi in calendar.between(start, end):
        if reach is not None and hi <= reach:
            continue
        at = lo if reach is None or reach <= lo else reach
        while at < hi:
            count += 1
            reach = at + step
            at = reach
    return count
