"""The persistent job store: batches and jobs in one SQLite file (WAL).

Every state change is one short ``BEGIN IMMEDIATE`` transaction, so any number of
processes can share the file. A job is claimed under a lease (owner, expiry); the
owner renews it while the job runs. A job whose lease expired, or whose owner
process on this host is gone, goes back to ``pending``: a crash never loses a job.
A job's result is written in the same transaction that marks it ``done``, and
only while the lease is still held, so a job is recorded done exactly once.

Times are UTC epoch seconds in the file and timezone-aware datetimes outside.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from traderctl.jobs.model import STATES, Batch, Job, JobFilter, SubmitResult
from traderctl.private import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER REFERENCES batches(id),
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    finished_at REAL,
    lease_owner TEXT,
    lease_expires REAL,
    UNIQUE (kind, key)
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, not_before);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id, state);
"""

COLUMNS = ("id, batch_id, kind, key, payload, state, attempts, last_error, result, "
           "created_at, updated_at, not_before, finished_at, lease_owner, lease_expires")
BUSY_TIMEOUT = 30.0
UTC_TEXT = "strftime('%Y-%m-%dT%H:%M:%f+00:00', updated_at, 'unixepoch')"
LIST_HEADERS = ("id", "batch", "kind", "key", "state", "attempts", "updated", "last error")
LIST_CELLS = ("id", "COALESCE(batch_id, '')", "kind", "key", "state", "attempts", UTC_TEXT,
              "CASE WHEN LENGTH(last_error) > 60 THEN SUBSTR(REPLACE(last_error, char(10), ' '),"
              " 1, 59) || '…' ELSE REPLACE(COALESCE(last_error, ''), char(10), ' ') END")
LIST_JSON = ("json_object('id', id, 'batch', batch_id, 'kind', kind, 'key', key, 'state', "
             f"state, 'attempts', attempts, 'updated_at', {UTC_TEXT}, 'last_error', last_error)")


class StoreError(Exception):
    """The store cannot be opened or written (exit code 3 of ``traderctl jobs``)."""


def connect(path: str | Path) -> sqlite3.Connection:
    """An autocommit connection in WAL mode; transactions are explicit."""
    path = Path(path)
    try:
        private_file(path)  # the payloads and errors may name accounts and orders
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives any process crash; a power cut may roll back the
        # last commits, which returns jobs to pending (rerun), never to a false "done"
        conn.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    return conn


def owner_id() -> str:
    """``host:pid:start`` names a lease owner; the start time tells a reused pid apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone."""
    host, _, rest = owner.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    return _start_ticks(int(pid_text)) == ticks


class JobStore:
    """All reads and writes of jobs and batches; one connection per instance."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.conn = connect(self.path)
        try:
            self.conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use {self.path}: {exc}") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE``: the write lock is taken first, so no deadlock on upgrade."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def write(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        """One statement, its own transaction."""
        try:
            return self.conn.execute(sql, args)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    # ---- submitting ----------------------------------------------------------------------

    def create_batch(self, name: str) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO batches (name, created_at) VALUES (?, ?)",
                             (name, self.clock()))
        return int(cur.lastrowid or 0)

    def submit(self, kind: str, items: Iterable[tuple[str, Any]], batch_id: int | None = None,
               refresh: bool = False) -> SubmitResult:
        """Add jobs ``(key, payload)``; an existing key is left alone unless ``refresh``.

        Refresh puts a finished job back to ``pending`` with the new payload and no
        attempts; a job that is running right now is left to finish.
        """
        now, result = self.clock(), SubmitResult()
        with self.transaction() as db:
            for key, payload in items:
                text = json.dumps(payload, sort_keys=True, default=str)
                cur = db.execute(
                    "INSERT INTO jobs (batch_id, kind, key, payload, state, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) "
                    "ON CONFLICT (kind, key) DO NOTHING",
                    (batch_id, kind, str(key), text, now, now))
                if cur.rowcount:
                    result.new += 1
                elif refresh and self._refresh(db, kind, str(key), text, batch_id, now):
                    result.refreshed += 1
                else:
                    result.unchanged += 1
        return result

    def _refresh(self, db: sqlite3.Connection, kind: str, key: str, payload: str,
                 batch_id: int | None, now: float) -> bool:
        cur = db.execute(
            "UPDATE jobs SET payload = ?, batch_id = COALESCE(?, batch_id), state = 'pending', "
            "attempts = 0, last_error = NULL, result = NULL, finished_at = NULL, "
            "not_before = 0, updated_at = ? WHERE kind = ? AND key = ? AND state != 'running'",
            (payload, batch_id, now, kind, key))
        return cur.rowcount > 0

    # ---- working (the worker's side) ----------------------------------------------------

    def claim(self, owner: str, kinds: Sequence[str], limit: int, lease: float,
              batch_id: int | None = None) -> list[Job]:
        """Lease up to ``limit`` ready jobs of ``kinds``; each claim counts an attempt."""
        if limit <= 0 or not kinds:
            return []
        now = self.clock()
        marks = ",".join("?" * len(kinds))
        batch = "" if batch_id is None else f"AND batch_id = {int(batch_id)} "
        with self.transaction() as db:
            ids = [r[0] for r in db.execute(
                f"SELECT id FROM jobs WHERE state = 'pending' AND not_before <= ? "
                f"AND kind IN ({marks}) {batch}ORDER BY not_before, id LIMIT ?",
                (now, *kinds, limit))]
            if not ids:
                return []
            id_marks = ",".join("?" * len(ids))
            db.execute(
                f"UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, "
                f"lease_expires = ?, updated_at = ? WHERE id IN ({id_marks})",
                (owner, now + lease, now, *ids))
            rows = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id IN ({id_marks}) ORDER BY id",
                              ids).fetchall()
        return [Job.from_row(r) for r in rows]

    def renew(self, owner: str, ids: Sequence[int], lease: float) -> set[int]:
        """Extend the leases still held; returns the ids that are (cancelled ones are not)."""
        if not ids:
            return set()
        now, marks = self.clock(), ",".join("?" * len(ids))
        with self.transaction() as db:
            db.execute(f"UPDATE jobs SET lease_expires = ? WHERE lease_owner = ? AND "
                       f"state = 'running' AND id IN ({marks})", (now + lease, owner, *ids))
            held = db.execute(f"SELECT id FROM jobs WHERE lease_owner = ? AND state = 'running' "
                              f"AND id IN ({marks})", (owner, *ids)).fetchall()
        return {r[0] for r in held}

    def complete(self, job_id: int, owner: str, result: Any) -> bool:
        """Mark done with its result, in one transaction; False if the lease was lost."""
        now = self.clock()
        # one statement is one transaction in autocommit mode: state and result together
        cur = self.write(
            "UPDATE jobs SET state = 'done', result = ?, last_error = NULL, finished_at = ?, "
            "updated_at = ?, lease_owner = NULL, lease_expires = NULL "
            "WHERE id = ? AND lease_owner = ? AND state = 'running'",
            (json.dumps(result, default=str), now, now, job_id, owner))
        return cur.rowcount > 0

    def fail(self, job_id: int, owner: str, error: str, retry_at: float | None,
             refund: bool = False) -> bool:
        """Record an error: back to pending until ``retry_at``, or failed for good if None.

        ``refund`` gives the attempt back (TWS was down: the job never had a chance).
        """
        now = self.clock()
        state = "failed" if retry_at is None else "pending"
        cur = self.write(
            "UPDATE jobs SET state = ?, last_error = ?, not_before = ?, updated_at = ?, "
            "finished_at = ?, attempts = attempts - ?, lease_owner = NULL, "
            "lease_expires = NULL WHERE id = ? AND lease_owner = ? AND state = 'running'",
            (state, error, retry_at or 0, now, now if retry_at is None else None,
             int(refund), job_id, owner))
        return cur.rowcount > 0

    def release(self, owner: str, ids: Sequence[int]) -> int:
        """Back to pending with the attempt refunded (shutdown before the job finished)."""
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self.transaction() as db:
            cur = db.execute(
                f"UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0), "
                f"lease_owner = NULL, lease_expires = NULL, updated_at = ? "
                f"WHERE lease_owner = ? AND state = 'running' AND id IN ({marks})",
                (self.clock(), owner, *ids))
        return cur.rowcount

    def recover(self) -> int:
        """Return to pending the jobs of expired leases and of dead local owners."""
        now = self.clock()
        with self.transaction() as db:
            owners = [r[0] for r in db.execute(
                "SELECT DISTINCT lease_owner FROM jobs WHERE state = 'running'")]
            dead = [o for o in owners if o and not owner_alive(o)]
            marks = ",".join("?" * len(dead)) or "NULL"
            cur = db.execute(
                f"UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires = NULL, "
                f"last_error = COALESCE(last_error, 'lease lost (worker died)'), updated_at = ? "
                f"WHERE state = 'running' AND (lease_expires < ? OR lease_owner IN ({marks}))",
                (now, now, *dead))
        return cur.rowcount

    # ---- operators -------------------------------------------------------------------------

    def cancel(self, flt: JobFilter) -> int:
        """Pending and running jobs become cancelled; a running one's result is then dropped."""
        where, args = flt.where(("pending", "running"))
        now = self.clock()
        with self.transaction() as db:
            cur = db.execute(f"UPDATE jobs SET state = 'cancelled', finished_at = ?, "
                             f"updated_at = ?, lease_owner = NULL, lease_expires = NULL "
                             f"WHERE {where}", (now, now, *args))
        return cur.rowcount

    def retry(self, flt: JobFilter) -> int:
        """Failed and cancelled jobs go back to pending with a fresh set of attempts."""
        where, args = flt.where(("failed", "cancelled"))
        with self.transaction() as db:
            cur = db.execute(f"UPDATE jobs SET state = 'pending', attempts = 0, not_before = 0, "
                             f"finished_at = NULL, updated_at = ? WHERE {where}",
                             (self.clock(), *args))
        return cur.rowcount

    def purge(self, flt: JobFilter) -> int:
        """Delete finished jobs (done, failed, cancelled), then batches left empty."""
        where, args = flt.where(("done", "failed", "cancelled"))
        with self.transaction() as db:
            cur = db.execute(f"DELETE FROM jobs WHERE {where}", args)
            db.execute("DELETE FROM batches WHERE id NOT IN "
                       "(SELECT DISTINCT batch_id FROM jobs WHERE batch_id IS NOT NULL)")
        return cur.rowcount

    def jobs(self, flt: JobFilter, limit: int | None = None) -> list[Job]:
        where, args = flt.where(STATES)
        sql = f"SELECT {COLUMNS} FROM jobs WHERE {where} ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [Job.from_row(r) for r in self.conn.execute(sql, args)]

    def listing(self, flt: JobFilter, limit: int | None = None, as_json: bool = False
                ) -> list[str]:
        """``jobs list`` lines (a header first unless JSON), formatted by SQLite itself."""
        where, args = flt.where(STATES)
        tail = f" ORDER BY id LIMIT {int(limit) if limit else -1}"
        if as_json:
            sql = f"SELECT {LIST_JSON} FROM jobs WHERE {where}{tail}"
            return [r[0] for r in self.conn.execute(sql, args)]
        cells = ", ".join(LIST_CELLS)
        # a page: widths of its own rows; everything: of the whole table, from the (kind,
        # key) index without a second row scan (at worst a little wider than needed)
        source = f"(SELECT * FROM jobs WHERE {where}{tail})" if limit else "jobs"
        widths = self.conn.execute(
            f"SELECT LENGTH(MAX(id)), LENGTH(MAX(batch_id)), MAX(LENGTH(kind)), "
            f"MAX(LENGTH(key)), 9, 8, 29, 0 FROM {source}", args if limit else ()).fetchone()
        sizes = [max(len(h), w or 0) for h, w in zip(LIST_HEADERS, widths, strict=True)]
        fmt = "  ".join(f"%-{n}s" for n in sizes[:-1]) + "  %s"
        header = (fmt % tuple(h.upper() for h in LIST_HEADERS)).rstrip()
        sql = f"SELECT RTRIM(printf(?, {cells})) FROM jobs WHERE {where}{tail}"
        return [header, *(r[0] for r in self.conn.execute(sql, (fmt, *args)))]

    def get(self, job_id: int) -> Job | None:
        row = self.conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def counts(self, flt: JobFilter | None = None) -> dict[str, int]:
        where, args = (flt or JobFilter()).where(STATES)
        counts = dict.fromkeys(STATES, 0)
        for state, n in self.conn.execute(
                f"SELECT state, COUNT(*) FROM jobs WHERE {where} GROUP BY state", args):
            counts[state] = n
        return counts

    def batches(self) -> list[Batch]:
        rows = self.conn.execute("SELECT id, name, created_at FROM batches ORDER BY id")
        return [Batch(i, n, c) for i, n, c in rows]

    def find_batch(self, ref: str) -> int | None:
        """A batch by id or by name (the newest of that name)."""
        if ref.isdigit():
            row = self.conn.execute("SELECT id FROM batches WHERE id = ?", (int(ref),)).fetchone()
        else:
            row = self.conn.execute("SELECT id FROM batches WHERE name = ? ORDER BY id DESC",
                                    (ref,)).fetchone()
        return row[0] if row else None

    def next_ready_at(self, kinds: Sequence[str], batch_id: int | None = None) -> float | None:
        """When the earliest pending job of ``kinds`` may run (None: nothing pending)."""
        marks = ",".join("?" * len(kinds)) or "NULL"
        batch = "" if batch_id is None else f" AND batch_id = {int(batch_id)}"
        row = self.conn.execute(f"SELECT MIN(not_before) FROM jobs WHERE state = 'pending' "
                                f"AND kind IN ({marks}){batch}", tuple(kinds)).fetchone()
        return row[0] if row else None

    def running(self, batch_id: int | None = None) -> int:
        """Jobs under a lease right now (any worker's)."""
        batch = "" if batch_id is None else f" AND batch_id = {int(batch_id)}"
        row = self.conn.execute(f"SELECT COUNT(*) FROM jobs WHERE state = 'running'{batch}")
        return int(row.fetchone()[0])
