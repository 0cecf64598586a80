"""IB's reset windows as data: when failures of a TWS session are expected, not acted on.

Windows come from ``reset-windows.yaml`` (IB's published schedule) or
from the service's ``reset_windows`` list, in the same shape::

    - {name: north-america-daily, timezone: America/New_York,
       start: "00:15", end: "01:45", days: [sun, mon, tue, wed, thu, fri]}

``start``/``end`` are local wall-clock times in ``timezone`` (so DST is
followed); an ``end`` at or before ``start`` falls on the next day; ``days``
are the weekdays on which a window *starts*. All arithmetic returns aware
UTC datetimes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: IB server regions whose reset windows apply ("all": every region).
REGIONS = ("north-america", "europe", "asia", "all")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
DEFAULT_FILE_NAME = "reset-windows.yaml"


@dataclass(frozen=True)
class ResetWindow:
    name: str
    timezone: str
    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))  # date.weekday() numbers
    region: str = "all"  # IB server region it resets: north-america, europe, asia or all

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def occurrence(self, day: date) -> tuple[datetime, datetime]:
        """The window starting on local ``day``, as aware UTC (start, end)."""
        zone = self.zone
        start = datetime.combine(day, self.start, zone)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        end = datetime.combine(end_day, self.end, zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def active_until(self, now: datetime) -> datetime | None:
        """End (UTC) of the occurrence containing ``now``, or None if ``now`` is outside."""
        local_day = now.astimezone(self.zone).date()
        for day in (local_day - timedelta(days=1), local_day):
            if day.weekday() not in self.days:
                continue
            start, end = self.occurrence(day)
            if start <= now < end:
                return end
        return None

    def describe(self) -> str:
        days = "daily" if len(self.days) == 7 else ",".join(DAYS[d] for d in sorted(self.days))
        return f"{self.name} ({days} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone})"


@dataclass(frozen=True)
class ActiveWindow:
    window: ResetWindow
    until: datetime  # aware UTC

    def describe(self) -> str:
        local = self.until.astimezone(self.window.zone)
        return f"IB reset window {self.window.name} until {local:%H:%M} {self.window.timezone}"


def active_window(windows: Iterable[ResetWindow], now: datetime) -> ActiveWindow | None:
    """The window containing ``now`` (aware) that ends last, if any."""
    found = [ActiveWindow(w, end) for w in windows if (end := w.active_until(now)) is not None]
    return max(found, key=lambda a: a.until, default=None)


def parse_time(text: Any, what: str) -> time:
    match = HHMM.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{what}: expected HH:MM, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def parse_window(raw: Mapping[str, Any], index: int = 0) -> ResetWindow:
    if not isinstance(raw, Mapping):
        raise ValueError(f"window {index}: expected a mapping, got {raw!r}")
    name = str(raw.get("name") or f"window-{index}")
    zone = str(raw.get("timezone") or "")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"window {name}: unknown time zone {zone!r}") from None
    days_raw = raw.get("days")
    if days_raw is None:
        days = frozenset(range(7))
    else:
        if isinstance(days_raw, str):
            days_raw = [d.strip() for d in days_raw.split(",") if d.strip()]
        try:
            days = frozenset(DAYS.index(str(d).lower()[:3]) for d in days_raw)
        except ValueError:
            raise ValueError(f"window {name}: days must be among {', '.join(DAYS)}, "
                             f"got {days_raw!r}") from None
    start = parse_time(raw.get("start"), f"window {name} start")
    end = parse_time(raw.get("end"), f"window {name} end")
    if start == end:
        raise ValueError(f"window {name}: start and end are both {start:%H:%M}")
    region = str(raw.get("region") or "all")
    if region not in REGIONS:
        raise ValueError(f"window {name}: region must be one of {', '.join(REGIONS)}")
    return ResetWindow(name, zone, start, end, days, region)


def for_regions(windows: Iterable[ResetWindow], regions: Iterable[str]) -> list[ResetWindow]:
    """The windows that affect a session on servers in ``regions`` (empty: every window)."""
    wanted = set(regions)
    return [w for w in windows if not wanted or w.region in wanted or w.region == "all"]


def parse_windows(raw: Iterable[Mapping[str, Any]]) -> list[ResetWindow]:
    return [parse_window(item, i) for i, item in enumerate(raw)]


def load_windows_file(path: str | os.PathLike[str]) -> list[ResetWindow]:
    """Read a reset-windows YAML file (``windows: [...]``); ValueError if malformed."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read reset windows from {path}: {exc}") from None
    items = data.get("windows") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a top-level 'windows:' list")
    try:
        return parse_windows(items)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def default_windows_file(config_source: str | None) -> str | None:
    """Where the default windows live: next to the config file, /etc/traderctl, else the
    copy shipped in the package (``traderctl/tws/reset-windows.yaml``)."""
    candidates = []
    if config_source:
        candidates.append(Path(config_source).resolve().parent / DEFAULT_FILE_NAME)
    candidates.append(Path("/etc/traderctl") / DEFAULT_FILE_NAME)
    candidates.append(Path(str(resources.files(__package__) / DEFAULT_FILE_NAME)))
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


def daily_window(name: str, start: time, length: timedelta, zone: str,
                 days: Iterable[int] = range(7)) -> ResetWindow:
    """A window from a time of day and a length (the daily auto-restart, the Sunday cold one)."""
    begin = datetime.combine(date(2000, 1, 3), start)
    end = (begin + length).time()
    if end == start:  # a 24 h window is not useful; keep it one minute short
        end = (begin + length - timedelta(minutes=1)).time()
    return ResetWindow(name, zone, start, end, frozenset(days))
