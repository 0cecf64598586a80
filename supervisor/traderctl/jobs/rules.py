"""Rate-limit rules as data: what a limiter enforces, independent of how it stores state.

A :class:`Profile` is a set of rules that every request of a job kind must pass at
once. Two kinds of rule cover IB's limits:

* :class:`Window`: at most ``limit`` cost units within any ``period`` seconds, over all
  requests, per group (contract/exchange/tick type) or per identity. "No identical
  request within T" is a window of one per identity.
* :class:`InFlight`: at most ``limit`` requests open at the same time.

A rule's ``name`` is also its budget: profiles that name the same rule share it, and
so do all processes whose limiters use the same store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Per = Literal["all", "group", "identity"]


@dataclass(frozen=True)
class Request:
    """One request to pace: ``identity`` tells identical requests apart, ``group`` is what
    per-key rules count by (IB: contract, exchange and tick type), ``cost`` its weight."""

    identity: str
    group: str = ""
    cost: int = 1


@dataclass(frozen=True)
class Window:
    name: str
    limit: int
    period: float
    per: Per = "all"
    weighted: bool = True

    def key(self, request: Request) -> str:
        if self.per == "group":
            return request.group
        if self.per == "identity":
            return request.identity
        return ""

    def cost(self, request: Request) -> int:
        return request.cost if self.weighted else 1

    def describe(self) -> str:
        if self.per == "identity":
            return f"no identical request within {self.period:g}s"
        scope = " per group" if self.per == "group" else ""
        return f"{self.limit} per {self.period:g}s{scope}"


@dataclass(frozen=True)
class InFlight:
    name: str
    limit: int

    def describe(self) -> str:
        return f"at most {self.limit} in flight"


def per_window(name: str, limit: int, period: float) -> Window:
    return Window(name, limit, period)


def per_group(name: str, limit: int, period: float) -> Window:
    return Window(name, limit, period, per="group")


def no_identical(name: str, period: float) -> Window:
    return Window(name, 1, period, per="identity", weighted=False)


@dataclass(frozen=True)
class Profile:
    """The rules one kind of request obeys; ``scaled`` stretches every period.

    ``until_reply``: a grant's window entries move to the moment it is released (its
    reply arrived). The server counts a request when it reads it, which is after we grant
    it by a delay we cannot see (its queue, the network); the reply comes after that
    count, so windows counted from it can never run ahead of the server's, whatever the
    delay. Used for IB's hard historical rules, whose scaled windows are too short for
    a fixed margin to cover the delay.
    """

    name: str
    windows: tuple[Window, ...] = ()
    in_flight: tuple[InFlight, ...] = ()
    until_reply: bool = False

    def scaled(self, factor: float) -> Profile:
        """Periods times ``factor`` (a simulator's time scale, a safety margin)."""
        windows = tuple(replace(w, period=w.period * factor) for w in self.windows)
        return replace(self, windows=windows)

    def describe(self) -> list[str]:
        return [w.describe() for w in self.windows] + [f.describe() for f in self.in_flight]

    @property
    def longest(self) -> float:
        return max((w.period for w in self.windows), default=0.0)


UNLIMITED = Profile("unlimited")
