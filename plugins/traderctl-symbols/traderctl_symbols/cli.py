"""``traderctl symbols ...``: resolve, fetch, list, show, export, universes, sources.

Imported only when ``traderctl symbols`` runs; ib_async, requests and rich are imported
further down, by the subcommands that need them. stdout carries data (tables, ``--json``,
``--csv``), stderr logs and the progress bar.

Exit codes of ``resolve``: 0 every symbol resolved; 1 some symbols are unknown to IB
(error 200; reported and left out); 2 bad input (usage, a bad symbol or file, invalid
config); 3 TWS unreachable or some symbols failed (IB errors after the retries).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from traderctl.cli.app import App, pass_app

EXIT_UNKNOWN, EXIT_INPUT, EXIT_FAILED = 1, 2, 3


@click.group("symbols")
def symbols() -> None:
    """Symbol lists, the universe store, symbol to IB contract resolution."""


@symbols.command("resolve")
@click.argument("symbol_args", metavar="SYMBOL...", nargs=-1)
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with a symbol column (exchange, currency optional), or one a line.")
@click.option("--list", "list_", metavar="SOURCE", help="Resolve a list `symbols fetch` stored.")
@click.option("--universe", help="Universe to add to (default: symbols.universe).")
@click.option("--sec-type", default="STK", show_default=True)
@click.option("--currency", default="", help="Currency when a symbol does not name one.")
@click.option("--exchange", default="SMART", show_default=True, help="Route asked of IB.")
@click.option("--prefer-primary", metavar="EXCH,...",
              help="Primary exchanges preferred among several listings "
                   "(default: symbols.prefer_primary).")
@click.option("--refresh", is_flag=True, help="Ask IB even for symbols the store knows.")
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--json", "as_json", is_flag=True, help="Candidates and rules as JSON.")
@pass_app
def resolve_cmd(app: App, symbol_args: tuple[str, ...], file_: Path | None, list_: str | None,
                universe: str | None, sec_type: str, currency: str, exchange: str,
                prefer_primary: str | None, refresh: bool, concurrency: int,
                as_json: bool) -> None:
    """Resolve SYMBOL... (AAPL, BHP:ASX, BHP:ASX:AUD) to IB contracts.

    Several listings: every candidate is shown and one chosen by the rule in
    traderctl_symbols.choose (requested exchange/currency, then --prefer-primary, then
    symbols.prefer_currency, then the lowest conId). Exit 1 if some are unknown.
    """
    from traderctl_symbols.query import QueryError
    from traderctl_symbols.resolve import ResolveOptions, TwsUnreachable, resolve
    from traderctl_symbols.store import StoreError

    config = app.config
    try:
        queries = _queries(config, symbol_args, file_, list_, sec_type, currency, exchange)
    except (QueryError, StoreError) as exc:
        raise click.UsageError(str(exc)) from None
    if not queries:
        raise click.UsageError("give SYMBOL..., --file or --list")
    prefer = tuple(p.strip() for p in prefer_primary.split(",") if p.strip()) \
        if prefer_primary is not None else None
    options = ResolveOptions(universe, sec_type, currency, exchange, prefer, None, refresh,
                             concurrency)
    try:
        result = resolve(config, queries, options)
    except (TwsUnreachable, StoreError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    from traderctl_symbols import report

    report.print_resolution(result, as_json)
    sys.exit(report.exit_code(result))


def _queries(config: Any, args: tuple[str, ...], file_: Path | None, list_: str | None,
             sec_type: str, currency: str, route: str) -> list[Any]:
    from traderctl_symbols.query import SymbolQuery, queries_from_csv
    from traderctl_symbols.store import UniverseStore, store_path

    queries = [SymbolQuery.parse(a, sec_type, currency, route) for a in args]
    if file_ is not None:
        queries += queries_from_csv(file_, sec_type, currency, route)
    if list_:
        with UniverseStore(store_path(config)) as store:
            rows = store.symbol_list(list_)
        if not rows:
            raise click.UsageError(f"no stored list {list_!r}: run `traderctl symbols fetch`")
        queries += [SymbolQuery(r.symbol, r.exchange, r.currency, r.sec_type or sec_type,
                                route.upper()) for r in rows]
    return queries


@symbols.command("fetch")
@click.argument("source")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False),
              help="Read this local file instead of downloading (repeatable).")
@click.option("--url", "urls", multiple=True, help="Download from here instead (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the list as CSV (for `resolve --file`).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def fetch_cmd(app: App, source: str, files: tuple[str, ...], urls: tuple[str, ...],
              out: Path | None, as_json: bool) -> None:
    """Fetch the symbol list SOURCE (see `symbols sources`) into the store."""
    import dataclasses

    from traderctl_symbols.download import DownloadError, fetch_text
    from traderctl_symbols.sources import SourceFormatError, collect_sources, read_source
    from traderctl_symbols.store import UniverseStore, store_path

    known = collect_sources(app.pm)
    if source not in known:
        raise click.UsageError(f"unknown source {source!r}; known: {', '.join(sorted(known))}")
    chosen = dataclasses.replace(known[source], urls=urls) if urls else known[source]
    try:
        rows = read_source(chosen, files, fetch_text)
    except (SourceFormatError, DownloadError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED if isinstance(exc, DownloadError) else EXIT_INPUT)
    origin = ",".join(files) if files else ",".join(chosen.urls)
    with UniverseStore(store_path(app.config)) as store:
        store.save_list(source, rows, origin)
    from traderctl_symbols import report

    if out is not None:
        report.write_rows_csv(out, rows)
    report.print_fetch(source, origin, rows, as_json)


@symbols.command("sources")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def sources_cmd(app: App, as_json: bool) -> None:
    """Symbol-list sources registered by plugins."""
    from traderctl.output import print_json, print_table
    from traderctl_symbols.sources import collect_sources

    found = collect_sources(app.pm)
    if as_json:
        print_json([{"name": s.name, "doc": s.doc, "urls": list(s.urls)}
                    for s in found.values()])
    else:
        print_table(["source", "description"], [(s.name, s.doc) for s in found.values()])


@symbols.command("list")
@click.option("--universe", help="Only this universe.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, universe: str | None, as_json: bool) -> None:
    """Members of the stored universes."""
    from traderctl_symbols import report
    from traderctl_symbols.store import UniverseStore, store_path

    with UniverseStore(store_path(app.config)) as store:
        report.print_members(store.members(universe), as_json)


@symbols.command("show")
@click.argument("symbol")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show_cmd(app: App, symbol: str, as_json: bool) -> None:
    """A stored security (SYMBOL, SYMBOL:EXCHANGE[:CURRENCY] or conId) with today's
    sessions in exchange time and UTC."""
    from traderctl_symbols import report
    from traderctl_symbols.store import UniverseStore, store_path

    name, _, rest = symbol.upper().partition(":")
    exchange, _, currency = rest.partition(":")
    with UniverseStore(store_path(app.config)) as store:
        found = [row for row in store.find(name)
                 if exchange in ("", row[0].primary_exchange, row[0].exchange)
                 and currency in ("", row[0].currency)]
    if not found:
        click.echo(f"error: {symbol} is not in the store; run `traderctl symbols resolve "
                   f"{symbol}`", err=True)
        sys.exit(EXIT_UNKNOWN)
    report.print_show(found, as_json)


@symbols.command("export")
@click.option("--csv", "fmt", flag_value="csv", default=True, help="CSV (default).")
@click.option("--json", "fmt", flag_value="json", help="JSON with every field.")
@click.option("--universe", help="Only this universe.")
@pass_app
def export_cmd(app: App, fmt: str, universe: str | None) -> None:
    """The universes' securities as CSV or JSON on stdout."""
    from traderctl_symbols import report
    from traderctl_symbols.store import UniverseStore, store_path

    with UniverseStore(store_path(app.config)) as store:
        report.export(store.members(universe), fmt)


@symbols.command("universes")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def universes_cmd(app: App, as_json: bool) -> None:
    """Stored universes: members, resolved, unknown, last update."""
    from traderctl.output import print_json, print_table
    from traderctl_symbols.store import UniverseStore, store_path

    with UniverseStore(store_path(app.config)) as store:
        rows = store.universes()
    if as_json:
        print_json(rows)
    else:
        print_table(["universe", "members", "resolved", "unknown", "updated_at"],
                    [(r["name"], r["members"], r["resolved"], r["unknown"], r["updated_at"])
                     for r in rows])
