"""The SQLite universe store: permissions, atomic records, when and from where."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.plugins.symbols.conftest import mode
from traderctl.securities import SecurityDefinition
from traderctl_symbols.query import SymbolQuery
from traderctl_symbols.sources import SymbolRow
from traderctl_symbols.store import StoreError, UniverseStore

AAPL = SecurityDefinition(265598, "AAPL", "STK", "SMART", "NASDAQ", "USD", min_tick=0.01,
                          time_zone_id="US/Eastern",
                          trading_hours="20261201:0930-20261201:1600")


def test_permissions(tmp_path: Path) -> None:
    path = tmp_path / "state" / "symbols" / "universe.sqlite"
    UniverseStore(path).close()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_record_and_read_back(tmp_path: Path) -> None:
    with UniverseStore(tmp_path / "u.sqlite") as store:
        q = SymbolQuery.parse("AAPL")
        store.record(q, [AAPL], None, "ib:127.0.0.1:7497", "us", AAPL, "only")
        store.record(SymbolQuery.parse("NOPE"), [], "200: none", "ib:127.0.0.1:7497", "us")
        found = store.lookups([q.key, SymbolQuery.parse("NOPE").key, "other"])
        assert found[q.key].candidates == (AAPL,) and found[q.key].status == "found"
        assert found[q.key].candidates[0].to_dict() == AAPL.to_dict()
        assert found[SymbolQuery.parse("NOPE").key].status == "unknown"
        assert "other" not in found
        when = found[q.key].resolved_at
        assert when.tzinfo is UTC and datetime.now(UTC) - when < timedelta(minutes=1)
        [m1, m2] = store.members("us")
        assert (m1.security, m1.rule, m1.resolved_from) == (AAPL, "only", "ib:127.0.0.1:7497")
        assert m2.security is None
        assert store.universes()[0] | {"created_at": "", "updated_at": ""} == {
            "name": "us", "members": 2, "resolved": 1, "unknown": 1, "created_at": "",
            "updated_at": ""}
        assert store.primary_exchanges() == ["NASDAQ"]
        assert [s.con_id for s, _, _ in store.find("aapl")] == [265598]
        assert [s.con_id for s, _, _ in store.find("265598")] == [265598]


def test_a_failed_record_leaves_nothing_half_written(tmp_path: Path) -> None:
    with UniverseStore(tmp_path / "u.sqlite") as store:
        store.conn.execute("CREATE TRIGGER boom BEFORE INSERT ON members "
                           "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(sqlite3.IntegrityError):
            store.record(SymbolQuery.parse("AAPL"), [AAPL], None, "ib:x", "us", AAPL, "only")
        assert store.lookups([SymbolQuery.parse("AAPL").key]) == {}
        assert store.securities([265598]) == {}


def test_symbol_lists_replace_the_previous_fetch(tmp_path: Path) -> None:
    with UniverseStore(tmp_path / "u.sqlite") as store:
        store.save_list("nasdaq", [SymbolRow("AAPL", "Apple", "NASDAQ")], "file:a")
        store.save_list("nasdaq", [SymbolRow("MSFT", "Microsoft", "NASDAQ", etf=False)], "f")
        assert [r.symbol for r in store.symbol_list("nasdaq")] == ["MSFT"]


def test_unusable_store_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot use the universe store"):
        UniverseStore(blocker / "u.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError):
        UniverseStore(garbage)
    assert stat.S_IMODE(garbage.stat().st_mode) == 0o600
