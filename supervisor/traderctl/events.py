"""Structured events: everything the supervisor and the checks do is one of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """A named, timestamped fact. ``name`` is a stable snake_case id (``service_state``)."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    ts: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.name, "ts": self.ts.isoformat(), **self.fields}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        data = dict(data)
        name = data.pop("event")
        ts = datetime.fromisoformat(data.pop("ts")) if "ts" in data else utcnow()
        return cls(name, data, ts)
