"""Plain data for the IB status check: what was fetched, what the page says, what it means.

Kept free of heavy imports so the CLI and the check framework can import the types cheaply.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traderctl.plugin.checktypes import Status


class NoticeStatus(enum.StrEnum):
    """What a notice's colour cell means (legend in :mod:`traderctl.ibstatus.colours`)."""

    PROBLEM = "problem"
    MAINTENANCE = "maintenance"
    INFORMATION = "information"
    NORMAL = "normal"
    RESOLVED = "resolved"
    UNKNOWN = "unknown"


class Impact(enum.StrEnum):
    """How one notice bears on this user; ordered from worst to harmless by :data:`IMPACT_ORDER`."""

    PROBLEM = "problem"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    INFO = "info"
    NONE = "none"


IMPACT_ORDER: tuple[Impact, ...] = tuple(Impact)


class VerdictKind(enum.StrEnum):
    """The overall answer. ``unknown`` is never ok and never an outage."""

    OK = "ok"
    DEGRADED = "degraded"
    PROBLEM = "problem"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"
    DISABLED = "disabled"


#: Suggested mapping onto ``traderctl.checks.Status``: only a relevant outage fails.
CHECK_STATUS: Mapping[VerdictKind, Status] = {
    VerdictKind.OK: "ok",
    VerdictKind.DEGRADED: "warn",
    VerdictKind.MAINTENANCE: "warn",
    VerdictKind.PROBLEM: "fail",
    VerdictKind.UNKNOWN: "unknown",
    VerdictKind.DISABLED: "disabled",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class FetchResult:
    """One fetch of the status page, possibly served from the shared disk cache.

    ``ok`` is true only for an HTTP 200 with a body; a failure carries ``error`` and no body.
    """

    url: str
    ok: bool
    fetched_at: datetime
    http_status: int | None = None
    body: str | None = None
    error: str | None = None
    from_cache: bool = False

    def to_json(self, *, include_body: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url,
            "ok": self.ok,
            "fetched_at": _iso(self.fetched_at),
            "http_status": self.http_status,
            "error": self.error,
            "from_cache": self.from_cache,
            "body_chars": len(self.body) if self.body is not None else None,
        }
        if include_body:
            data["body"] = self.body
        return data


@dataclass(frozen=True)
class Notice:
    """One row of the "System Availability" or "Exchange Availability" table.

    ``exchanges`` and ``systems`` are canonical codes found in the text by the alias matcher.
    """

    table: str
    status: NoticeStatus
    colour: str | None
    headline: str
    details: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    exchanges: frozenset[str] = frozenset()
    systems: frozenset[str] = frozenset()

    @property
    def text(self) -> str:
        """Headline and details together: what attribution searches."""
        return f"{self.headline}\n{self.details}".strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "status": str(self.status),
            "colour": self.colour,
            "headline": self.headline,
            "details": self.details,
            "created": _iso(self.created),
            "updated": _iso(self.updated),
            "exchanges": sorted(self.exchanges),
            "systems": sorted(self.systems),
        }


@dataclass(frozen=True)
class StatusPage:
    """What the parser made of the page. ``understood`` false means: do not trust ``notices``."""

    notices: tuple[Notice, ...]
    understood: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "understood": self.understood,
            "reason": self.reason,
            "notices": [n.to_json() for n in self.notices],
        }


@dataclass(frozen=True)
class AssessedNotice:
    """A notice with its bearing on this user and why (``attribution`` is shown to humans)."""

    notice: Notice
    impact: Impact
    attribution: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            **self.notice.to_json(),
            "impact": str(self.impact),
            "attribution": self.attribution,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verdict:
    """The answer of the IB status check.

    ``relevant_notices`` are the notices worth showing (impact other than ``none``), worst first;
    ``all_notices`` are every parsed notice with its assessment, in page order.
    """

    verdict: VerdictKind
    reason: str
    relevant_notices: tuple[AssessedNotice, ...] = ()
    all_notices: tuple[AssessedNotice, ...] = ()
    user_exchanges: tuple[str, ...] = ()
    fetch: FetchResult | None = None

    @property
    def check_status(self) -> Status:
        """The ``traderctl.checks`` status this verdict maps to (see :data:`CHECK_STATUS`)."""
        return CHECK_STATUS[self.verdict]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "check_status": self.check_status,
            "reason": self.reason,
            "user_exchanges": list(self.user_exchanges),
            "relevant_notices": [a.to_json() for a in self.relevant_notices],
            "all_notices": [a.to_json() for a in self.all_notices],
            "fetch": self.fetch.to_json() if self.fetch is not None else None,
        }
