"""Probe kinds for readiness and liveness: ``after``, ``tcp``, ``command``, or a plugin's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traderctl.config.schema import Type

if TYPE_CHECKING:
    from traderctl.services.runner import ServiceRunner

ProbeFunc = Callable[[], Awaitable["ProbeResult"]]


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ProbeType:
    """``type`` validates the probe's value in config; ``build(value, runner)`` returns an
    async function giving a :class:`ProbeResult` (each call is one attempt)."""

    name: str
    type: Type
    build: Callable[[Any, ServiceRunner], ProbeFunc]
    doc: str = ""

