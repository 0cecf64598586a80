"""Symbol sources: the Nasdaq Trader directory and CSV, from files and over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugins.symbols.conftest import DATA, Files
from traderctl_symbols.download import DownloadError, fetch_text, session
from traderctl_symbols.sources import (
    BUILTIN_SOURCES,
    SourceFormatError,
    parse_csv,
    parse_nasdaq,
    read_source,
)

NASDAQ = BUILTIN_SOURCES[0]


def test_nasdaq_listed_file() -> None:
    rows = parse_nasdaq("nasdaqlisted.txt", (DATA / "nasdaqlisted.txt").read_text())
    assert [r.symbol for r in rows] == ["AAPL", "MSFT", "QQQ"]  # test issues skipped
    assert {r.exchange for r in rows} == {"NASDAQ"}
    assert [r.etf for r in rows] == [False, False, True]


def test_other_listed_file_maps_exchange_codes_and_share_classes() -> None:
    rows = parse_nasdaq("otherlisted.txt", (DATA / "otherlisted.txt").read_text())
    by_symbol = {r.symbol: r.exchange for r in rows}
    assert by_symbol == {"BRK B": "NYSE", "IBM": "NYSE", "SPY": "ARCA", "IMO": "AMEX",
                         "CBOE": "BATS", "IEXG": "IEX"}


@pytest.mark.parametrize(("text", "message"), [
    ("<html><body>Service unavailable</body></html>", "not a Nasdaq Trader"),
    ("Symbol|Security Name|Market Category|Test Issue|Financial Status|Round Lot Size|ETF|"
     "NextShares\nAAPL|Apple|Q|N|N|100|N|N\n", "trailer"),
    ("Symbol|Security Name|Market Category\nAAPL|Apple\n", "expected 3 fields"),
    ("ACT Symbol|Security Name|Exchange|CQS Symbol|ETF|Round Lot Size|Test Issue|NASDAQ Symbol\n"
     "X|X|Q|X|N|100|N|X\nFile Creation Time: 0|||||||\n", "unknown exchange code 'Q'"),
    ("", "empty"),
])
def test_garbled_directory_files_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(SourceFormatError, match=message):
        parse_nasdaq("f.txt", text)


def test_csv_source() -> None:
    rows = parse_csv("u.csv", "symbol,exchange,currency,name\nbhp,asx,aud,BHP Group\nAAPL,,,\n")
    assert [(r.symbol, r.exchange, r.currency) for r in rows] == [
        ("BHP", "ASX", "AUD"), ("AAPL", "", "USD")]
    with pytest.raises(SourceFormatError, match="no 'symbol' column"):
        parse_csv("u.csv", "ticker\nAAPL\n")
    with pytest.raises(SourceFormatError, match=r"u\.csv:3: empty symbol"):
        parse_csv("u.csv", "symbol\nAAPL\n\"\"\n")


def test_read_source_from_local_files_merges_both() -> None:
    rows = read_source(NASDAQ, [str(DATA / "nasdaqlisted.txt"), str(DATA / "otherlisted.txt")])
    assert len(rows) == 9
    with pytest.raises(SourceFormatError, match="No such file"):
        read_source(NASDAQ, ["/nonexistent/file.txt"])


def test_download_retries_a_flaky_server(http_files: str) -> None:
    text = fetch_text(f"{http_files}/flaky/nasdaqlisted.txt", session(backoff=0.01),
                      progress=False)
    assert text.startswith("Symbol|") and Files.hits["/flaky/nasdaqlisted.txt"] == 3


def test_download_errors_are_clear(http_files: str) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_text(f"{http_files}/missing.txt", session(backoff=0.01), progress=False)
    with pytest.raises(DownloadError, match="ConnectionError"):
        fetch_text("http://127.0.0.1:9/x.txt", session(retries=0), progress=False)


def test_progress_bar_path_downloads_the_same(http_files: str) -> None:
    text = fetch_text(f"{http_files}/otherlisted.txt", progress=True)
    assert text == (DATA / "otherlisted.txt").read_text()


def test_fetch_command_over_http_stores_the_list(symbols_cli, http_files: str,  # type: ignore[no-untyped-def]
                                                 tmp_path: Path) -> None:
    out = tmp_path / "us.csv"
    result = symbols_cli(None, "fetch", "nasdaq", "--url", f"{http_files}/nasdaqlisted.txt",
                         "--url", f"{http_files}/otherlisted.txt", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["count"] == 9 and summary["exchanges"]["NASDAQ"] == 3
    assert out.read_text().splitlines()[1] == "AAPL,NASDAQ,USD,Apple Inc. - Common Stock"


def test_fetch_command_from_files_and_bad_input(symbols_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = symbols_cli(None, "fetch", "nasdaq", "--file", str(DATA / "otherlisted.txt"))
    assert ok.exit_code == 0 and "ARCA" in ok.stdout
    garbled = tmp_path / "g.txt"
    garbled.write_text("<html>oops</html>")
    bad = symbols_cli(None, "fetch", "nasdaq", "--file", str(garbled))
    assert bad.exit_code == 2 and "not a Nasdaq Trader" in bad.stderr
    unknown = symbols_cli(None, "fetch", "bloomberg")
    assert unknown.exit_code == 2 and "known: csv, nasdaq" in unknown.output
    listed = symbols_cli(None, "sources", "--json")
    assert {s["name"] for s in json.loads(listed.stdout)} >= {"nasdaq", "csv"}
