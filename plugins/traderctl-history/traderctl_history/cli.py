"""``traderctl history ...``: download, status, show, plot, worker.

Imported only when ``traderctl history`` runs; pandas, arcticdb and matplotlib are
imported further down by the subcommands that need them. stdout carries data, stderr
logs and progress.

Exit codes of ``download``: 0 every planned request done; 2 bad input; 3 TWS
unreachable, or some requests failed after the retries (listed).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from traderctl.cli.app import App, pass_app

EXIT_INPUT, EXIT_FAILED = 2, 3


@click.group("history")
def history() -> None:
    """Historical bars: download within IB's pacing, status, show, plot."""


@history.command("download")
@click.argument("symbols", metavar="SYMBOL...", nargs=-1)
@click.option("--universe", help="Every resolved member of this symbols universe.")
@click.option("--sec-type", default="STK", show_default=True, help="For SYMBOL... (CASH, FUT).")
@click.option("--route", default="SMART", show_default=True,
              help="Exchange asked of IB when resolving SYMBOL... (IDEALPRO for CASH).")
@click.option("--bar-size", default="1 min", show_default=True)
@click.option("--start", required=True, help="Date or ISO time; exchange zone unless given.")
@click.option("--end", help="Date or ISO time (default: now).")
@click.option("--what", type=click.Choice(["TRADES", "MIDPOINT", "BID_ASK", "ADJUSTED_LAST"],
                                          case_sensitive=False), default="TRADES",
              show_default=True)
@click.option("--rth", is_flag=True, help="Regular trading hours only.")
@click.option("--refresh", is_flag=True, help="Ask again for ranges IB had no data for.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--source", default="ib", show_default=True,
              help="Where bars come from: ib, polygon, or a plugin's source.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def download_cmd(app: App, symbols: tuple[str, ...], universe: str | None, sec_type: str,
                 route: str, bar_size: str,
                 start: str, end: str | None, what: str, rth: bool, refresh: bool,
                 concurrency: int, source: str, as_json: bool) -> None:
    """Download the bars missing from the store for SYMBOL... or --universe."""
    from traderctl.jobs.kinds import collect_kinds
    from traderctl_history.barsizes import bar_size as parse_size
    from traderctl_history.download import DownloadOptions, download
    from traderctl_history.sources import BarSource
    from traderctl_symbols.resolve import TwsUnreachable

    try:
        parse_size(bar_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bar-size") from None
    sources = app.pm.registered_by_name("register_bar_sources", BarSource)
    if source not in sources:
        raise click.BadParameter(f"unknown source {source!r}; one of: {', '.join(sources)}",
                                 param_hint="--source")
    securities = securities_for(app, symbols, universe, sec_type, route)
    opts = DownloadOptions(bar_size, start, end, what.upper(), rth, refresh, concurrency,
                           source=source)
    try:
        planned = download(app.config, securities, opts, sources[source],
                           collect_kinds(app.pm))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except TwsUnreachable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    rows = [p.to_json() for p in planned]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            state = f"{len(r['failed'])} failed" if r["failed"] else "ok"
            click.echo(f"{r['symbol']:<10} {r['con_id']:>10} {r['exchange']:<8} "
                       f"requests={r['requests']:<5} {state}")
    for r in rows:
        for failure in r["failed"]:
            click.echo(f"failed: {r['symbol']} {failure}", err=True)
    sys.exit(EXIT_FAILED if any(r["failed"] for r in rows) else 0)


def securities_for(app: App, symbols: tuple[str, ...], universe: str | None,
                   sec_type: str = "STK", route: str = "SMART") -> list[Any]:
    """The symbols through the ``resolve_securities`` hook, plus a universe's members."""
    found: dict[int, Any] = {}
    if universe:
        from traderctl_symbols.store import UniverseStore, store_path

        with UniverseStore(store_path(app.config)) as store:
            members = [m.security for m in store.members(universe) if m.security]
        if not members:
            raise click.UsageError(f"universe {universe!r} has no resolved members")
        found.update((s.con_id, s) for s in members)
    if symbols:
        from traderctl_symbols.resolve import ResolveOptions

        options = ResolveOptions(sec_type=sec_type.upper(), exchange=route.upper(),
                                 progress=False)
        resolution = app.pm.hook.resolve_securities(symbols=list(symbols), config=app.config,
                                                    options=options)
        if resolution is None:
            raise click.UsageError("no plugin resolves symbols (install traderctl-symbols)")
        for r in resolution.results:
            if r.chosen is None:
                click.echo(f"unresolved: {r.query.text} ({r.status}: {r.error})", err=True)
        found.update((s.con_id, s) for s in resolution.securities.values())
    if not found:
        raise click.UsageError("give SYMBOL... or --universe with resolvable symbols")
    return list(found.values())


from traderctl_history import views  # noqa: E402  (the read-only commands, same group)

views.add_commands(history)


@history.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Default: jobs.concurrency.")
@pass_app
def worker_cmd(app: App, concurrency: int | None) -> None:
    """Work off history jobs (and only those) until SIGTERM: the supervised service.

    Pauses while the tws service is down or TWS does not answer and resumes on its own
    (the engine's gate); jobs in flight at SIGTERM go back to pending.
    """
    from traderctl.jobs.runtime import run_from_config
    from traderctl_history.download import open_store
    from traderctl_history.jobs import configure
    from traderctl_history.sources import configured_kinds
    from traderctl_history.store import storage_uri

    configure(storage_uri(app.config), open_store(app.config).locks)
    run_from_config(app.config, configured_kinds(app.config), concurrency=concurrency)
