"""The shared limiter: one budget per rule for every process on the box.

Grants are rows in a SQLite file next to the job store. A request is granted inside
one ``BEGIN IMMEDIATE`` transaction that first checks every rule of its profile
against the recorded grants and then records its own; SQLite's write lock makes the
check-and-record atomic across processes, so two processes together never exceed a
rule. A refused request learns how long to wait for the earliest moment every rule
could pass (in-flight slots are polled: they are freed by other processes).

After a pacing violation, :meth:`Limiter.slow_down` halves the profile's limits for
its longest window, for every process, and logs ``limiter_slowed_down``.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from traderctl.jobs.rules import Profile, Request, Window
from traderctl.jobs.store import connect, owner_alive, owner_id
from traderctl.logs import get_logger

log = get_logger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (scope TEXT NOT NULL, key TEXT NOT NULL,
                                   t REAL NOT NULL, cost INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS grants_key ON grants (scope, key, t);
CREATE INDEX IF NOT EXISTS grants_age ON grants (scope, t);
CREATE TABLE IF NOT EXISTS in_flight (token INTEGER PRIMARY KEY, scope TEXT NOT NULL,
                                      owner TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS slowdowns (profile TEXT PRIMARY KEY, factor REAL NOT NULL,
                                      until REAL NOT NULL, reason TEXT NOT NULL);
"""
IN_FLIGHT_POLL = 0.02
PRUNE_EVERY = 1.0


@dataclass
class Grant:
    """A granted request; release it when its reply arrived (frees in-flight slots)."""

    profile: str
    at: float
    tokens: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # window entries to move to the release


class Limiter:
    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time,
                 in_flight_ttl: float = 600.0) -> None:
        self.path = Path(path)
        self.clock = clock
        self.owner = owner_id()
        self.in_flight_ttl = in_flight_ttl
        self.conn: sqlite3.Connection = connect(self.path)
        self.conn.executescript(SCHEMA)
        # processes queue on a flock (the kernel wakes the next at once) rather than on
        # SQLite's busy handler, which sleeps in steps of up to 100 ms and wastes budget
        self._lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.waiting = 0.0  # the current pacing wait, for progress displays
        self._pruned_at = 0.0

    def close(self) -> None:
        self.conn.close()
        os.close(self._lock)

    def try_acquire(self, profile: Profile, request: Request) -> Grant | float:
        """A grant, or the seconds to wait before trying again."""
        db = self.conn
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                now = self.clock()
                wait = self._wait(db, profile, request, now)
                if wait > 0:
                    db.execute("ROLLBACK")
                    return wait
                grant = self._record(db, profile, request, now)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return grant
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    async def acquire(self, profile: Profile, request: Request) -> Grant:
        """Wait (asleep) until every rule of ``profile`` lets ``request`` through."""
        if not profile.windows and not profile.in_flight:
            return Grant(profile.name, self.clock())
        while True:
            result = self.try_acquire(profile, request)
            if isinstance(result, Grant):
                self.waiting = 0.0
                return result
            self.waiting = result
            await asyncio.sleep(min(result, 1.0))

    def release(self, grant: Grant) -> None:
        if not grant.rows and not grant.tokens:
            return
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # not SQLite's sleeping busy handler
        try:
            if grant.rows:  # an ``until_reply`` profile: its windows count from now
                marks = ",".join("?" * len(grant.rows))
                self.conn.execute(f"UPDATE grants SET t = MAX(t, ?) WHERE rowid IN ({marks})",
                                  [self.clock(), *grant.rows])
                grant.rows = []
            if grant.tokens:
                marks = ",".join("?" * len(grant.tokens))
                self.conn.execute(f"DELETE FROM in_flight WHERE token IN ({marks})",
                                  grant.tokens)
                grant.tokens = []
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    def slow_down(self, profile: Profile, reason: str, factor: float = 0.5) -> float:
        """Halve ``profile``'s limits for its longest window, in every process; returns until."""
        hold = max(profile.longest, 1.0)
        until = self.clock() + hold
        self.conn.execute("INSERT INTO slowdowns (profile, factor, until, reason) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (profile) DO UPDATE SET "
                          "factor = MIN(factor, excluded.factor), until = excluded.until, "
                          "reason = excluded.reason", (profile.name, factor, until, reason))
        log.warning("limiter_slowed_down", profile=profile.name, factor=factor,
                    seconds=round(hold, 3), reason=reason)
        return until

    def slowdown_factor(self, profile: str, now: float | None = None) -> float:
        row = self.conn.execute("SELECT factor FROM slowdowns WHERE profile = ? AND until > ?",
                                (profile, self.clock() if now is None else now)).fetchone()
        return float(row[0]) if row else 1.0

    # ---- inside the transaction ------------------------------------------------------------

    def _wait(self, db: sqlite3.Connection, profile: Profile, request: Request,
              now: float) -> float:
        factor = self.slowdown_factor(profile.name, now)
        wait = 0.0
        for window in profile.windows:
            limit = window.limit if window.per == "identity" else max(1, int(window.limit
                                                                            * factor))
            wait = max(wait, self._window_wait(db, window, limit, request, now))
        for rule in profile.in_flight:
            if self._open(db, rule.name, now) >= rule.limit:
                wait = max(wait, IN_FLIGHT_POLL)
        return wait

    def _window_wait(self, db: sqlite3.Connection, window: Window, limit: int,
                     request: Request, now: float) -> float:
        cost = window.cost(request)
        if cost > limit:
            raise ValueError(f"a request costing {cost} can never pass {window.describe()}")
        rows = db.execute("SELECT t, cost FROM grants WHERE scope = ? AND key = ? AND t > ? "
                          "ORDER BY t", (window.name, window.key(request),
                                         now - window.period)).fetchall()
        excess = sum(c for _, c in rows) + cost - limit
        if excess <= 0:
            return 0.0
        for t, c in rows:  # the oldest grants expire first
            excess -= c
            if excess <= 0:
                # a grant counts while t > now - period: it is out at exactly t + period
                return max(t + window.period - now, 1e-6)
        raise AssertionError("unreachable: the excess is covered by the recorded grants")

    def _open(self, db: sqlite3.Connection, scope: str, now: float) -> int:
        owners = [r[0] for r in db.execute(
            "SELECT DISTINCT owner FROM in_flight WHERE scope = ? AND expires > ?", (scope, now))]
        dead = [o for o in owners if not owner_alive(o)]
        for owner in dead:
            db.execute("DELETE FROM in_flight WHERE owner = ?", (owner,))
        row = db.execute("SELECT COUNT(*) FROM in_flight WHERE scope = ? AND expires > ?",
                         (scope, now)).fetchone()
        return int(row[0])

    def _record(self, db: sqlite3.Connection, profile: Profile, request: Request,
                now: float) -> Grant:
        grant = Grant(profile.name, now)
        for w in profile.windows:
            cur = db.execute("INSERT INTO grants (scope, key, t, cost) VALUES (?, ?, ?, ?)",
                             (w.name, w.key(request), now, w.cost(request)))
            if profile.until_reply:
                grant.rows.append(int(cur.lastrowid or 0))
        for rule in profile.in_flight:
            cur = db.execute("INSERT INTO in_flight (scope, owner, expires) VALUES (?, ?, ?)",
                             (rule.name, self.owner, now + self.in_flight_ttl))
            grant.tokens.append(int(cur.lastrowid or 0))
        if now - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = now
            for window in profile.windows:
                db.execute("DELETE FROM grants WHERE scope = ? AND t <= ?",
                           (window.name, now - window.period))
            db.execute("DELETE FROM in_flight WHERE expires <= ?", (now,))
        return grant
