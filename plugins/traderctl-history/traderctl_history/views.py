"""``history status``, ``history show``, ``history plot``: reading the store.

``status`` reads only metadata and ArcticDB's symbol descriptions (no bars), so it stays
fast on a store of thousands of symbols. Gaps are session time inside ``[first, last)``
that is neither covered by bars nor known to have no data.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from traderctl.cli.app import App, pass_app


def add_commands(group: click.Group) -> None:
    group.add_command(status_cmd)
    group.add_command(show_cmd)
    group.add_command(plot_cmd)


def _store(app: App) -> Any:
    from traderctl_history.download import open_store

    return open_store(app.config)


def coverage(store: Any, series: Any, holidays: list[str]) -> dict[str, Any]:
    return coverage_all(store, [series], holidays)[0]


def coverage_all(store: Any, series: list[Any], holidays: list[str]) -> list[dict[str, Any]]:
    """Each series' coverage from its metadata and description only, read in two batch
    calls (ArcticDB runs them in parallel): no bar is read."""
    from arcticdb import DataError

    symbols = [s.symbol for s in series]
    metas = store.lib.read_metadata_batch(symbols)
    descs = store.lib.get_description_batch(symbols)
    rows = []
    for s, meta, desc in zip(series, metas, descs, strict=True):
        if isinstance(meta, DataError) or isinstance(desc, DataError):
            continue  # removed since it was listed
        rows.append(_coverage(s, dict(meta.metadata or {}), desc, holidays))
    return rows


def _coverage(series: Any, meta: dict[str, Any], desc: Any,
              holidays: list[str]) -> dict[str, Any]:
    from traderctl.securities import SecurityDefinition
    from traderctl_history.calendar import Calendar
    from traderctl_history.planner import subtract
    from traderctl_history.store import merge

    sec = SecurityDefinition.from_dict(meta["security"])
    spans = [(datetime.fromisoformat(a), datetime.fromisoformat(b))
             for a, b, _ in meta.get("coverage", []) + meta.get("nodata", [])]
    gaps: list[tuple[datetime, datetime]] = []
    if spans:
        known = merge(spans)
        sessions = Calendar(sec, series.rth, holidays).between(known[0][0], known[-1][1])
        gaps = subtract(sessions, known)
    first, last = desc.date_range if desc.row_count else (None, None)
    return {"symbol": sec.symbol, "con_id": sec.con_id,
            "exchange": sec.primary_exchange or sec.exchange, "bar_size": series.bar_size,
            "what": series.what, "rth": series.rth, "bars": int(desc.row_count),
            "first": first.isoformat() if first is not None else None,
            "last": last.isoformat() if last is not None else None,
            "gaps": len(gaps), "gap_seconds": int(sum((b - a).total_seconds()
                                                      for a, b in gaps)),
            "no_data_spans": len(meta.get("nodata", [])),
            "sources": meta.get("sources", [])}


@click.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def status_cmd(app: App, as_json: bool) -> None:
    """Coverage per security and bar size: first, last, bars, gaps, source."""
    store = _store(app)
    holidays = app.config.get("history.holidays") or []
    rows = coverage_all(store, store.series(), holidays)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'SYMBOL':<10} {'CONID':>10} {'BAR':<8} {'WHAT':<8} {'BARS':>8} "
               f"{'FIRST':<25} {'LAST':<25} {'GAPS':>5} SOURCE")
    for r in rows:
        click.echo(f"{r['symbol']:<10} {r['con_id']:>10} {r['bar_size']:<8} {r['what']:<8} "
                   f"{r['bars']:>8} {r['first'] or '-':<25} {r['last'] or '-':<25} "
                   f"{r['gaps']:>5} {','.join(r['sources'])}")


def find_series(app: App, store: Any, symbol: str, bar_size: str, what: str) -> Any:
    from traderctl_history.barsizes import bar_size as parse_size

    size = parse_size(bar_size).name
    for series in store.series():
        if series.bar_size != size or series.what != what.upper():
            continue
        sec = store.metadata(series).get("security", {})
        names = {str(series.con_id), sec.get("symbol", ""),
                 f"{sec.get('symbol')}:{sec.get('primary_exchange')}",
                 f"{sec.get('symbol')}:{sec.get('primary_exchange')}:{sec.get('currency')}"}
        if symbol.upper() in {n.upper() for n in names}:
            return series
    raise click.UsageError(f"no {size} {what.upper()} bars stored for {symbol!r}")


def _frame(app: App, symbol: str, bar_size: str, what: str, start: str | None,
           end: str | None) -> tuple[Any, Any]:
    from traderctl.securities import SecurityDefinition
    from traderctl_history.download import parse_when

    store = _store(app)
    series = find_series(app, store, symbol, bar_size, what)
    sec = SecurityDefinition.from_dict(store.metadata(series)["security"])
    try:
        lo = parse_when(start, sec) if start else None
        hi = parse_when(end, sec) if end else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    frame = store.read(series, lo, hi)
    if hi is not None:
        frame = frame[frame.index < hi]
    return sec, frame


_range = [click.option("--bar-size", default="1 min", show_default=True),
          click.option("--what", default="TRADES", show_default=True),
          click.option("--start"), click.option("--end")]


def _with_range(func: Any) -> Any:
    for option in reversed(_range):
        func = option(func)
    return func


@click.command("show")
@click.argument("symbol")
@_with_range
@click.option("--tz", type=click.Choice(["exchange", "utc"]), default="exchange",
              show_default=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show_cmd(app: App, symbol: str, bar_size: str, what: str, start: str | None,
             end: str | None, tz: str, as_csv: bool, as_json: bool) -> None:
    """The stored bars of SYMBOL (a symbol, SYMBOL:EXCHANGE or a conId)."""
    sec, frame = _frame(app, symbol, bar_size, what, start, end)
    if tz == "exchange":
        frame.index = frame.index.tz_convert(sec.zone)
    if as_csv:
        frame.to_csv(sys.stdout, index_label="time")
    elif as_json:
        rows = [{"time": t.isoformat(), **{k: (v if isinstance(v, str) else float(v))
                                           for k, v in row.items()}}
                for t, row in zip(frame.index, frame.to_dict("records"), strict=True)]
        click.echo(json.dumps(rows))
    else:
        click.echo(frame.to_string() if len(frame) else "no bars in range")


@click.command("plot")
@click.argument("symbol")
@_with_range
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def plot_cmd(app: App, symbol: str, bar_size: str, what: str, start: str | None,
             end: str | None, out: Path) -> None:
    """Candles and volume of SYMBOL into a PNG, session opens and closes marked."""
    from traderctl_history.plot import plot

    sec, frame = _frame(app, symbol, bar_size, what, start, end)
    if not len(frame):
        raise click.UsageError("no bars in range to plot")
    from traderctl_history.barsizes import bar_size as parse_size

    plot(sec, frame, out, daily=parse_size(bar_size).daily)
    click.echo(str(out))
