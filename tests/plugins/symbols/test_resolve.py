"""`traderctl symbols resolve` against the simulator with the real ib_async client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.symbols.conftest import mode

pytestmark = pytest.mark.timeout(60)


def details_requests(sim: Any) -> list[str]:
    """Symbols of the reqContractDetails that reached the simulator, in order."""
    return [r.fields[4] for r in sim.requests_named("reqContractDetails")]


def by_symbol(stdout: str) -> dict[str, Any]:
    return {r["symbol"]: r for r in json.loads(stdout)["results"]}


def test_ambiguous_symbols_report_every_candidate_and_the_rule(symbols_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    result = symbols_cli(sim_tws, "resolve", "BHP", "SHEL:LSE", "BHP:ASX:AUD", "RIO",
                         "--prefer-primary", "ASX,LSE", "--json")
    assert result.exit_code == 0, result.output
    found = by_symbol(result.stdout)
    bhp = found["BHP"]
    assert {(c["primary_exchange"], c["currency"]) for c in bhp["candidates"]} == {
        ("ASX", "AUD"), ("NYSE", "USD")}
    assert (bhp["chosen"]["primary_exchange"], bhp["rule"]) == ("ASX", "prefer-primary:ASX")
    assert found["SHEL:LSE"]["chosen"]["currency"] == "GBP"
    assert found["BHP:ASX:AUD"]["rule"] == "only"
    assert found["RIO"]["rule"].startswith("prefer-primary:")
    assert json.loads(result.stdout)["choice_rule"][0] == "requested exchange/currency"


def test_resolve_a_fetched_list(symbols_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.symbols.conftest import DATA

    fetched = symbols_cli(None, "fetch", "nasdaq", "--file", str(DATA / "nasdaqlisted.txt"),
                          "--file", str(DATA / "otherlisted.txt"))
    assert fetched.exit_code == 0, fetched.output
    result = symbols_cli(sim_tws, "resolve", "--list", "nasdaq", "--universe", "us", "--json")
    found = by_symbol(result.stdout)
    assert len(found) == 9
    assert found["AAPL:NASDAQ:USD"]["chosen"]["con_id"] == 265598
    assert found["IBM:NYSE:USD"]["status"] == "resolved"
    assert found["IEXG:IEX:USD"]["status"] == "unknown" and result.exit_code == 1
    missing = symbols_cli(sim_tws, "resolve", "--list", "bloomberg")
    assert missing.exit_code == 2 and "no stored list" in missing.output


def test_default_preference_and_requested_currency(symbols_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    result = symbols_cli(sim_tws, "resolve", "BHP", "SAP", "--json")
    found = by_symbol(result.stdout)
    assert found["BHP"]["chosen"]["primary_exchange"] == "NYSE"  # symbols.prefer_primary
    assert found["BHP"]["rule"] == "prefer-primary:NYSE"
    eur = by_symbol(symbols_cli(sim_tws, "resolve", "SAP", "--currency", "EUR",
                                "--json").stdout)["SAP"]
    assert (eur["chosen"]["primary_exchange"], eur["rule"]) == ("IBIS", "only")


def test_unknown_symbols_are_reported_and_the_batch_goes_on(symbols_cli, sim_tws) -> None:  # type: ignore[no-untyped-def]
    result = symbols_cli(sim_tws, "resolve", "NOSUCH1", "AAPL", "NOSUCH2", "MSFT", "--json")
    assert result.exit_code == 1
    found = by_symbol(result.stdout)
    assert [found[s]["status"] for s in ("NOSUCH1", "AAPL", "NOSUCH2", "MSFT")] == [
        "unknown", "resolved", "unknown", "resolved"]
    assert "200" in found["NOSUCH1"]["error"]
    assert "unknown: NOSUCH2" in result.stderr
    listed = json.loads(symbols_cli(sim_tws, "list", "--json").stdout)
    assert {m["symbol_asked"]: m["rule"] for m in listed}["NOSUCH1"] == "unknown"


def test_the_store_answers_without_asking_ib_unless_refresh(  # type: ignore[no-untyped-def]
        symbols_cli, sim_tws, data_dir: Path) -> None:
    first = symbols_cli(sim_tws, "resolve", "AAPL", "BHP", "NOSUCH", "--json")
    asked = len(details_requests(sim_tws))
    assert asked == 3
    again = symbols_cli(sim_tws, "resolve", "AAPL", "BHP", "NOSUCH", "--json")
    assert again.exit_code == first.exit_code == 1
    assert len(details_requests(sim_tws)) == asked  # nothing asked of IB
    assert all(r["from_store"] for r in json.loads(again.stdout)["results"])
    assert by_symbol(again.stdout)["BHP"]["candidates"] == by_symbol(first.stdout)["BHP"][
        "candidates"]
    symbols_cli(sim_tws, "resolve", "AAPL", "--refresh")
    assert details_requests(sim_tws)[asked:] == ["AAPL"]
    store = data_dir / "symbols" / "universe.sqlite"
    assert mode(store) == 0o600 and mode(store.parent) == 0o700


def test_file_input_universes_show_and_export(  # type: ignore[no-untyped-def]
        symbols_cli, sim_tws, tmp_path: Path) -> None:
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text("symbol,exchange,currency\nAAPL,,\nBHP,ASX,AUD\n7203,TSEJ,\n")
    result = symbols_cli(sim_tws, "resolve", "--file", str(csv_file), "--universe", "asia")
    assert result.exit_code == 0, result.output
    assert "BHP:ASX:AUD" in result.stdout and "resolved" in result.stdout
    universes = json.loads(symbols_cli(sim_tws, "universes", "--json").stdout)
    assert [(u["name"], u["members"], u["unknown"]) for u in universes] == [("asia", 3, 0)]
    shown = json.loads(symbols_cli(sim_tws, "show", "7203", "--json").stdout)
    [toyota] = shown
    assert toyota["zone"] == "Asia/Tokyo" and toyota["known_today"]
    for session in toyota["sessions"]["liquid"]:
        assert session["open_local"].endswith("+09:00") and session["open_utc"].endswith(
            "+00:00")
    exported = symbols_cli(sim_tws, "export", "--csv", "--universe", "asia").stdout
    lines = exported.splitlines()
    assert lines[0].startswith("universe,symbol_asked,con_id") and len(lines) == 4
    assert json.loads(symbols_cli(sim_tws, "export", "--json").stdout)[1]["definition"][
        "time_zone_id"] == "Australia/Sydney"
    assert symbols_cli(sim_tws, "show", "NOSUCH").exit_code == 1
    assert symbols_cli(sim_tws, "show", "BHP:NYSE").exit_code == 1  # only BHP:ASX stored
    assert "BHP:ASX:AUD" in symbols_cli(sim_tws, "show", "BHP:ASX").stdout


def test_bad_input_and_dead_tws(symbols_cli, sim_tws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = symbols_cli(sim_tws, "resolve", "BHP:")
    assert bad.exit_code == 2 and "bad symbol" in bad.output
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("symbol\nAAPL\nA:B:C:D\n")
    bad_file = symbols_cli(sim_tws, "resolve", "--file", str(bad_csv))
    assert bad_file.exit_code == 2 and "bad.csv:3" in bad_file.output
    assert symbols_cli(sim_tws, "resolve").exit_code == 2
    port = sim_tws.port
    sim_tws.stop()

    class Dead:
        pass

    dead = Dead()
    dead.port = port  # type: ignore[attr-defined]
    down = symbols_cli(dead, "resolve", "AAPL")
    assert down.exit_code == 3 and "cannot reach TWS" in down.stderr
