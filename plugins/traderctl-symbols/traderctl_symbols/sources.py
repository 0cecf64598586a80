"""Symbol-list sources: the Nasdaq Trader symbol directory and plain CSV files.

A :class:`SymbolSource` turns the text of one file into :class:`SymbolRow` rows; where the
text comes from (a local file for offline use and tests, or a download) is the caller's
business (:func:`read_source`). Plugins add sources through ``register_symbol_sources``.

The Nasdaq Trader directory is two pipe-delimited files with a header line and a
``File Creation Time`` trailer:

* ``nasdaqlisted.txt``: ``Symbol|Security Name|Market Category|Test Issue|Financial
  Status|Round Lot Size|ETF|NextShares``, every row listed on NASDAQ;
* ``otherlisted.txt``: ``ACT Symbol|Security Name|Exchange|CQS Symbol|ETF|Round Lot
  Size|Test Issue|NASDAQ Symbol`` with exchange codes ``N`` NYSE, ``A`` NYSE American,
  ``P`` NYSE Arca, ``Z`` Cboe BZX, ``V`` IEX.

Test issues (``Test Issue = Y``) are skipped. Exchanges are given as IB's primary-exchange
codes (``NASDAQ``, ``NYSE``, ``AMEX``, ``ARCA``, ``BATS``, ``IEX``) and share classes as
IB writes them (``BRK.B`` becomes ``BRK B``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

NASDAQ_URLS = ("https://www.nasdaqtrader.com/dynamic/SymDir/nasdaqlisted.txt",
               "https://www.nasdaqtrader.com/dynamic/SymDir/otherlisted.txt")
OTHER_EXCHANGES = {"N": "NYSE", "A": "AMEX", "P": "ARCA", "Z": "BATS", "V": "IEX"}
TRAILER = "File Creation Time"


class SourceFormatError(ValueError):
    """A file that is not in its source's format (garbled page, wrong file)."""


@dataclass(frozen=True)
class SymbolRow:
    """One listed symbol: IB spelling, name, primary exchange, currency, ETF flag."""

    symbol: str
    name: str
    exchange: str
    currency: str = "USD"
    sec_type: str = "STK"
    etf: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Parser = Callable[[str, str], list[SymbolRow]]


@dataclass(frozen=True)
class SymbolSource:
    """``parse(file_name, text)`` -> rows; ``urls`` are downloaded when no file is given."""

    name: str
    doc: str
    urls: tuple[str, ...]
    parse: Parser


def ib_symbol(text: str) -> str:
    """Nasdaq's share-class spelling to IB's: ``BRK.B`` -> ``BRK B``."""
    return text.strip().upper().replace(".", " ")


def parse_nasdaq(name: str, text: str) -> list[SymbolRow]:
    """Either directory file, told apart by its header."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise SourceFormatError(f"{name}: empty file")
    header = [h.strip() for h in lines[0].split("|")]
    if header[:2] == ["Symbol", "Security Name"]:
        return _rows(name, header, lines[1:], "Symbol", lambda row: "NASDAQ")
    if header[:3] == ["ACT Symbol", "Security Name", "Exchange"]:
        return _rows(name, header, lines[1:], "ACT Symbol",
                     lambda row: OTHER_EXCHANGES.get(row["Exchange"], ""))
    raise SourceFormatError(f"{name}: not a Nasdaq Trader symbol directory file "
                            f"(header {lines[0][:60]!r})")


def _rows(name: str, header: list[str], lines: Sequence[str], symbol_column: str,
          exchange_of: Callable[[dict[str, str]], str]) -> list[SymbolRow]:
    out: list[SymbolRow] = []
    for n, line in enumerate(lines, 2):
        if line.startswith(TRAILER):
            break
        values = [v.strip() for v in line.split("|")]
        if len(values) != len(header):
            raise SourceFormatError(f"{name}:{n}: expected {len(header)} fields, "
                                    f"got {len(values)}")
        row = dict(zip(header, values, strict=True))
        if row.get("Test Issue") == "Y":
            continue
        exchange = exchange_of(row)
        if not exchange:
            raise SourceFormatError(f"{name}:{n}: unknown exchange code {row.get('Exchange')!r}")
        out.append(SymbolRow(ib_symbol(row[symbol_column]), row["Security Name"], exchange,
                             etf=row.get("ETF") == "Y"))
    else:
        raise SourceFormatError(f"{name}: no {TRAILER!r} trailer (truncated download?)")
    return out


def parse_csv(name: str, text: str) -> list[SymbolRow]:
    """Columns ``symbol`` (required), ``name``, ``exchange``, ``currency``, ``sec_type``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "symbol" not in fields:
        raise SourceFormatError(f"{name}: no 'symbol' column (got {fields})")
    out = []
    for n, raw in enumerate(reader, 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not row.get("symbol"):
            raise SourceFormatError(f"{name}:{n}: empty symbol")
        out.append(SymbolRow(row["symbol"].upper(), row.get("name", ""),
                             row.get("exchange", "").upper(),
                             row.get("currency", "").upper() or "USD",
                             row.get("sec_type", "").upper() or "STK",
                             row.get("etf", "").lower() in ("y", "yes", "true", "1")))
    return out


BUILTIN_SOURCES = (
    SymbolSource("nasdaq", "Nasdaq Trader symbol directory: NASDAQ, NYSE, NYSE American, "
                 "NYSE Arca, Cboe BZX and IEX listings.", NASDAQ_URLS, parse_nasdaq),
    SymbolSource("csv", "A CSV file with a symbol column (name, exchange, currency optional).",
                 (), parse_csv),
)


def collect_sources(pm: Any) -> dict[str, SymbolSource]:
    """Every registered source by name; a broken plugin is logged and skipped."""
    sources: dict[str, SymbolSource] = pm.registered_by_name("register_symbol_sources",
                                                             SymbolSource)
    return sources


def read_source(source: SymbolSource, files: Sequence[str] = (),
                fetch: Callable[[str], str] | None = None) -> list[SymbolRow]:
    """Rows from local ``files`` if given, else from downloading every URL of the source."""
    if files:
        texts = [(path, _read(path)) for path in files]
    elif source.urls and fetch is not None:
        texts = [(url.rsplit("/", 1)[-1], fetch(url)) for url in source.urls]
    else:
        raise SourceFormatError(f"source {source.name!r} downloads nothing: give --file PATH")
    rows: dict[tuple[str, str, str], SymbolRow] = {}
    for name, text in texts:
        for row in source.parse(name, text):
            rows.setdefault((row.symbol, row.exchange, row.currency), row)
    return list(rows.values())


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()
    except OSError as exc:
        raise SourceFormatError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
