"""What the store holds: jobs, batches and the filters operators select them with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATES = ("pending", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


def stamp(epoch: float | None) -> datetime | None:
    """Epoch seconds from the store as an aware UTC datetime."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def iso(epoch: float | None) -> str | None:
    when = stamp(epoch)
    return when.isoformat(timespec="milliseconds") if when else None


@dataclass
class Job:
    id: int
    batch_id: int | None
    kind: str
    key: str
    payload: Any
    state: str
    attempts: int
    last_error: str | None
    result: Any
    created_at: float
    updated_at: float
    not_before: float
    finished_at: float | None
    lease_owner: str | None
    lease_expires: float | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Job:
        values = list(row)
        values[4] = json.loads(values[4])
        values[8] = None if values[8] is None else json.loads(values[8])
        return cls(*values)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "batch": self.batch_id, "kind": self.kind, "key": self.key,
            "state": self.state, "attempts": self.attempts, "last_error": self.last_error,
            "payload": self.payload, "result": self.result,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
            "not_before": iso(self.not_before) if self.not_before else None,
            "finished_at": iso(self.finished_at),
            "lease": None if self.lease_owner is None else
            {"owner": self.lease_owner, "expires": iso(self.lease_expires)},
        }


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    created_at: float


@dataclass
class SubmitResult:
    new: int = 0
    refreshed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class JobFilter:
    """Operators select jobs by batch, kind, state and ids; empty selects everything."""

    batch_id: int | None = None
    kind: str | None = None
    state: str | None = None
    ids: tuple[int, ...] = field(default_factory=tuple)

    def where(self, allowed: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
        """SQL condition and arguments, restricted to the states an action applies to."""
        states = tuple(s for s in allowed if self.state in (None, s))
        clauses: list[str] = []
        args: list[Any] = []
        if len(states) < len(STATES):  # all states: no condition, so ORDER BY id uses the key
            clauses.append(f"state IN ({','.join('?' * len(states))})" if states else "0")
            args.extend(states)
        if self.batch_id is not None:
            clauses.append("batch_id = ?")
            args.append(self.batch_id)
        if self.kind is not None:
            clauses.append("kind = ?")
            args.append(self.kind)
        if self.ids:
            clauses.append(f"id IN ({','.join('?' * len(self.ids))})")
            args.extend(self.ids)
        return " AND ".join(clauses) or "1", tuple(args)
