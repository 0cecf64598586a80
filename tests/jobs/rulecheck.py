"""An independent checker: do recorded grants obey a profile's rules? (used by tests, bench)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from traderctl.jobs.rules import Profile, Request, Window


@dataclass(frozen=True)
class Granted:
    t: float
    request: Request


def violations(profile: Profile, grants: Iterable[Granted]) -> list[str]:
    """Every (rule, time) where a window held more than its limit; empty when obeyed."""
    ordered = sorted(grants, key=lambda g: g.t)
    found = []
    for window in profile.windows:
        found.extend(_window_violations(window, ordered))
    return found


def _window_violations(window: Window, ordered: list[Granted]) -> list[str]:
    by_key: dict[str, list[Granted]] = defaultdict(list)
    for g in ordered:
        by_key[window.key(g.request)].append(g)
    found = []
    for key, grants in by_key.items():
        start, used = 0, 0
        for g in grants:
            used += window.cost(g.request)
            # same comparison as the limiter: a grant counts while t > now - period
            while not grants[start].t > g.t - window.period:
                used -= window.cost(grants[start].request)
                start += 1
            if used > window.limit:
                found.append(f"{window.name}[{key}] at {g.t}: {used} > {window.limit}")
    return found
