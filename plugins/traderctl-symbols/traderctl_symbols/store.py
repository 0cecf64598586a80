"""The universe store: SQLite under ``supervisor.data_dir`` (file 0600, folder 0700, WAL).

* ``securities``: one row per conId, the :class:`SecurityDefinition` as JSON, with when and
  from where (``ib:HOST:PORT``) it was last resolved;
* ``lookups``: IB's answer to each request (:attr:`SymbolQuery.key`): the candidate conIds,
  or ``unknown`` with the error; this is what answers a symbol without asking IB again;
* ``universes`` and ``members``: named universes, each member a request with the chosen
  conId, the rule that chose it, and when and from where;
* ``symbol_lists``: rows fetched from a symbol source.

A lookup, its securities and its universe membership are written in one transaction, so
a resolution killed at any moment has recorded each symbol completely or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traderctl.private import private_file
from traderctl.securities import SecurityDefinition
from traderctl_symbols.query import SymbolQuery
from traderctl_symbols.sources import SymbolRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS lookups (
    request TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('found', 'unknown')),
    candidates TEXT NOT NULL,
    error TEXT,
    resolved_at TEXT NOT NULL,
    resolved_from TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS universes (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    universe TEXT NOT NULL REFERENCES universes (name),
    request TEXT NOT NULL,
    query TEXT NOT NULL,
    con_id INTEGER,
    rule TEXT,
    resolved_at TEXT NOT NULL,
    resolved_from TEXT NOT NULL,
    PRIMARY KEY (universe, request)
);
CREATE TABLE IF NOT EXISTS symbol_lists (
    source TEXT NOT NULL,
    symbol TEXT NOT NULL,
    exchange TEXT NOT NULL,
    currency TEXT NOT NULL,
    row TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    fetched_from TEXT NOT NULL,
    PRIMARY KEY (source, symbol, exchange, currency)
);
"""
CHUNK = 500  # SQLite's variable limit is far above; keeps statements small
# securities: one column per SecurityDefinition field (lists comma-joined, ``extra`` as JSON),
# so a re-run reads plain columns instead of decoding JSON (the >= 10,000/s path)
FIELDS = [(f.name, f.type) for f in fields(SecurityDefinition)]
SQL_TYPES = {"int": "INTEGER", "float": "REAL", "float | None": "REAL"}
LISTS = {name for name, kind in FIELDS if str(kind).startswith("tuple")}
SEC_COLUMNS = [name for name, _ in FIELDS] + ["resolved_at", "resolved_from"]


class StoreError(RuntimeError):
    """The store file cannot be opened or written (permissions, full disk, corruption)."""


@dataclass(frozen=True)
class Lookup:
    """IB's stored answer to one request."""

    request: str
    status: str
    candidates: tuple[SecurityDefinition, ...]
    error: str | None
    resolved_at: datetime
    resolved_from: str


@dataclass(frozen=True)
class Member:
    universe: str
    query: SymbolQuery
    security: SecurityDefinition | None
    rule: str | None
    resolved_at: datetime
    resolved_from: str


def now_utc() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def store_path(config: Any) -> Path:
    """``symbols.store`` or ``<supervisor.data_dir>/symbols/universe.sqlite``."""
    explicit = config.get("symbols.store")
    if explicit:
        return Path(explicit)
    data_dir = config.get("supervisor.data_dir")
    if not data_dir:
        from traderctl.config.sections import default_data_dir

        data_dir = default_data_dir()
    return Path(data_dir) / "symbols" / "universe.sqlite"


def _open(path: Path) -> sqlite3.Connection:
    try:
        private_file(path)
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
        _securities_table(conn)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot use the universe store {path}: {exc}") from None
    return conn


def _securities_table(conn: sqlite3.Connection) -> None:
    """Create ``securities``, or add the columns of fields a newer definition has."""
    columns = [f"{name} {SQL_TYPES.get(str(kind), 'TEXT')}" for name, kind in FIELDS]
    columns[0] += " PRIMARY KEY"
    conn.execute(f"CREATE TABLE IF NOT EXISTS securities ({', '.join(columns)}, "
                 "resolved_at TEXT NOT NULL, resolved_from TEXT NOT NULL)")
    have = {row[1] for row in conn.execute("PRAGMA table_info(securities)")}
    for column in columns:
        if column.split()[0] not in have:
            conn.execute(f"ALTER TABLE securities ADD COLUMN {column}")
    conn.execute("CREATE INDEX IF NOT EXISTS securities_symbol ON securities (symbol)")


def _to_db(sec: SecurityDefinition) -> list[Any]:
    values = []
    for name, _ in FIELDS:
        value = getattr(sec, name)
        if name in LISTS:
            value = ",".join(str(v) for v in value)
        elif name == "extra":
            value = json.dumps(value)
        values.append(value)
    return values


_LIST_AT = [i for i, (name, _) in enumerate(FIELDS) if name in LISTS]
_INTS_AT = [i for i, (name, _) in enumerate(FIELDS) if name == "market_rule_ids"]
_EXTRA_AT = [name for name, _ in FIELDS].index("extra")


def _from_db(row: Sequence[Any]) -> SecurityDefinition:
    values = list(row[:len(FIELDS)])
    for i in _LIST_AT:
        values[i] = tuple(values[i].split(",")) if values[i] else ()
    for i in _INTS_AT:
        values[i] = tuple(int(x) for x in values[i])
    values[_EXTRA_AT] = json.loads(values[_EXTRA_AT]) if values[_EXTRA_AT] != "{}" else {}
    return SecurityDefinition(*values)


class UniverseStore:
    """Every read and write of the universe store; one connection per instance."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = _open(self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> UniverseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    # ---- writing ---------------------------------------------------------------------------

    def record(self, query: SymbolQuery, candidates: Sequence[SecurityDefinition],
               error: str | None, source: str, universe: str | None = None,
               chosen: SecurityDefinition | None = None, rule: str | None = None) -> None:
        """IB's answer to ``query`` and, with ``universe``, its membership: one transaction."""
        stamp = _iso(now_utc())
        with self.transaction() as db:
            marks = ",".join("?" * len(SEC_COLUMNS))
            for sec in candidates:
                db.execute(f"INSERT OR REPLACE INTO securities ({','.join(SEC_COLUMNS)}) "
                           f"VALUES ({marks})", [*_to_db(sec), stamp, source])
            db.execute("INSERT OR REPLACE INTO lookups VALUES (?, ?, ?, ?, ?, ?)",
                       (query.key, "found" if candidates else "unknown",
                        json.dumps([s.con_id for s in candidates]), error, stamp, source))
            if universe is not None:
                self._add_member(db, universe, query, chosen, rule, stamp, source)

    def add_members(self, universe: str, items: Iterable[tuple[SymbolQuery,
                    SecurityDefinition | None, str | None, datetime, str]]) -> None:
        """``(query, chosen or None, rule, resolved_at, resolved_from)`` rows into ``universe``
        (answers the store already had: when and where IB answered, not now)."""
        rows = list(items)
        have = {(r, c, ru) for r, c, ru in self.conn.execute(
            "SELECT request, con_id, rule FROM members WHERE universe = ?", (universe,))}
        changed = [(q, c, ru, at, src) for q, c, ru, at, src in rows
                   if (q.key, c.con_id if c else None, ru) not in have]
        if not changed:  # a re-run of the same universe writes nothing
            return
        with self.transaction() as db:
            for query, chosen, rule, at, source in changed:
                self._add_member(db, universe, query, chosen, rule, _iso(at), source)

    @staticmethod
    def _add_member(db: sqlite3.Connection, universe: str, query: SymbolQuery,
                    chosen: SecurityDefinition | None, rule: str | None, stamp: str,
                    source: str) -> None:
        db.execute("INSERT OR IGNORE INTO universes VALUES (?, ?)", (universe, stamp))
        db.execute("INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (universe, query.key, json.dumps(query.to_json()),
                    chosen.con_id if chosen else None, rule, stamp, source))

    def save_list(self, source: str, rows: Sequence[SymbolRow], fetched_from: str) -> None:
        """Replace the stored rows of ``source`` (one transaction)."""
        stamp = _iso(now_utc())
        with self.transaction() as db:
            db.execute("DELETE FROM symbol_lists WHERE source = ?", (source,))
            db.executemany("INSERT OR REPLACE INTO symbol_lists VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(source, r.symbol, r.exchange, r.currency, json.dumps(r.to_json()),
                             stamp, fetched_from) for r in rows])

    # ---- reading ---------------------------------------------------------------------------

    def lookups(self, keys: Sequence[str]) -> dict[str, Lookup]:
        """Stored answers for the request keys that have one (bulk: a re-run's fast path)."""
        raw: dict[str, tuple[Any, ...]] = {}
        for i in range(0, len(keys), CHUNK):
            part = keys[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(f"SELECT * FROM lookups WHERE request IN ({marks})",
                                         part):
                raw[row[0]] = row
        wanted = {key: json.loads(row[2]) for key, row in raw.items()}
        secs = self.securities({c for ids in wanted.values() for c in ids})
        out = {}
        for key, (request, status, _, error, at, source) in raw.items():
            found = tuple(secs[c] for c in wanted[key] if c in secs)
            out[key] = Lookup(request, status, found, error, _when(at), source)
        return out

    def securities(self, con_ids: Iterable[int]) -> dict[int, SecurityDefinition]:
        ids = list(con_ids)
        out: dict[int, SecurityDefinition] = {}
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(f"SELECT {','.join(SEC_COLUMNS)} FROM securities "
                                         f"WHERE con_id IN ({marks})", part):
                out[row[0]] = _from_db(row)
        return out

    def find(self, symbol: str) -> list[tuple[SecurityDefinition, datetime, str]]:
        """Every stored security with this symbol (or conId), with when and where resolved."""
        rows = self.conn.execute(
            f"SELECT {','.join(SEC_COLUMNS)} FROM securities "
            "WHERE symbol = ? OR con_id = ? ORDER BY con_id",
            (symbol.upper(), int(symbol) if symbol.isdigit() else -1)).fetchall()
        return [(_from_db(r), _when(r[-2]), r[-1]) for r in rows]

    def members(self, universe: str | None = None) -> list[Member]:
        sql = ("SELECT m.universe, m.query, m.con_id, m.rule, m.resolved_at, m.resolved_from "
               "FROM members m")
        args: tuple[Any, ...] = ()
        if universe is not None:
            sql += " WHERE m.universe = ?"
            args = (universe,)
        rows = self.conn.execute(sql + " ORDER BY m.universe, m.rowid", args).fetchall()
        secs = self.securities({r[2] for r in rows if r[2] is not None})
        return [Member(name, SymbolQuery.from_json(json.loads(query)),
                       secs.get(con_id) if con_id is not None else None, rule, _when(at), source)
                for name, query, con_id, rule, at, source in rows]

    def universes(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT u.name, u.created_at, COUNT(m.request), COUNT(m.con_id), MAX(m.resolved_at) "
            "FROM universes u LEFT JOIN members m ON m.universe = u.name "
            "GROUP BY u.name ORDER BY u.name").fetchall()
        return [{"name": n, "created_at": c, "members": total, "resolved": found,
                 "unknown": total - found, "updated_at": last}
                for n, c, total, found, last in rows]

    def primary_exchanges(self) -> list[str]:
        """The primary exchanges of every universe's members, most members first."""
        rows = self.conn.execute(
            "SELECT s.primary_exchange, COUNT(*) AS n FROM members m "
            "JOIN securities s ON s.con_id = m.con_id WHERE s.primary_exchange != '' "
            "GROUP BY s.primary_exchange ORDER BY n DESC, s.primary_exchange").fetchall()
        return [r[0] for r in rows]

    def symbol_list(self, source: str) -> list[SymbolRow]:
        rows = self.conn.execute("SELECT row FROM symbol_lists WHERE source = ? ORDER BY rowid",
                                 (source,)).fetchall()
        return [SymbolRow(**json.loads(r[0])) for r in rows]
