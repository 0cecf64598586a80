"""How the symbols commands print: tables for people, JSON/CSV for scripts (stdout),
unknown and failed symbols also named on stderr."""

from __future__ import annotations

import collections
import csv
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from traderctl.output import print_json, print_table
from traderctl.securities import SecurityDefinition
from traderctl.securities.sessions import format_sessions
from traderctl_symbols.resolve import Resolution
from traderctl_symbols.sources import SymbolRow
from traderctl_symbols.store import Member

EXPORT_FIELDS = ("universe", "symbol_asked", "con_id", "symbol", "sec_type", "exchange",
                 "primary_exchange", "currency", "local_symbol", "long_name", "min_tick",
                 "time_zone_id", "rule", "resolved_at", "resolved_from")


def exit_code(result: Resolution) -> int:
    if result.by_status("failed"):
        return 3
    return 1 if result.by_status("unknown") else 0


def print_resolution(result: Resolution, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
    else:
        rows = []
        for r in result.results:
            sec = r.chosen
            many = ", ".join(c.key for c in r.candidates) if len(r.candidates) > 1 else ""
            rows.append((r.query.text, r.status, sec.con_id if sec else "",
                         sec.primary_exchange if sec else "", sec.currency if sec else "",
                         r.rule or "", many, "store" if r.from_store else r.resolved_from))
        print_table(["symbol", "status", "con_id", "primary", "currency", "rule",
                     "candidates", "from"], rows)
    for r in result.results:
        if r.status != "resolved":
            click.echo(f"{r.status}: {r.query.text}: {r.error}", err=True)
    counts = result.to_json()["counts"]
    click.echo(f"{counts['resolved']} resolved, {counts['unknown']} unknown, "
               f"{counts['failed']} failed (universe {result.universe})", err=True)


def print_fetch(source: str, origin: str, rows: Sequence[SymbolRow], as_json: bool) -> None:
    per = collections.Counter(r.exchange for r in rows)
    if as_json:
        print_json({"source": source, "from": origin, "count": len(rows),
                    "exchanges": dict(per.most_common())})
        return
    print_table(["exchange", "symbols"], [*per.most_common(), ("total", len(rows))])


def write_rows_csv(path: Path, rows: Sequence[SymbolRow]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["symbol", "exchange", "currency", "name"])
        writer.writerows((r.symbol, r.exchange, r.currency, r.name) for r in rows)


def print_members(members: Sequence[Member], as_json: bool) -> None:
    if as_json:
        print_json([_member_row(m) | {"definition": m.security.to_dict() if m.security else None}
                    for m in members])
        return
    print_table(["universe", "asked", "con_id", "symbol", "primary", "currency", "rule",
                 "resolved_at", "from"],
                [(m.universe, m.query.text, *_sec_cells(m.security), m.rule or "unknown",
                  m.resolved_at.isoformat(timespec="seconds"), m.resolved_from) for m in members])


def _sec_cells(sec: SecurityDefinition | None) -> tuple[Any, ...]:
    if sec is None:
        return ("", "", "", "")
    return (sec.con_id, sec.symbol, sec.primary_exchange, sec.currency)


def _member_row(m: Member) -> dict[str, Any]:
    sec = m.security
    data = sec.to_dict() if sec else {}
    row = {name: data.get(name, "") for name in EXPORT_FIELDS}
    row.update(universe=m.universe, symbol_asked=m.query.text, rule=m.rule or "unknown",
               resolved_at=m.resolved_at.isoformat(), resolved_from=m.resolved_from)
    return row


def export(members: Sequence[Member], fmt: str) -> None:
    if fmt == "json":
        print_json([_member_row(m) | {"definition": m.security.to_dict() if m.security else None}
                    for m in members])
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_member_row(m) for m in members)


def print_show(found: Sequence[tuple[SecurityDefinition, datetime, str]],
               as_json: bool) -> None:
    now = datetime.now(UTC)
    items = []
    for sec, at, source in found:
        today = sec.exchange_date(now)
        sessions = {kind: format_sessions(sec.sessions(today, liquid) or (), sec.zone)
                    for kind, liquid in (("trading", False), ("liquid", True))}
        items.append({"definition": sec.to_dict(), "zone": str(sec.zone),
                      "exchange_date": today.isoformat(), "open_now": sec.is_open(now),
                      "known_today": sec.sessions(today) is not None, "sessions": sessions,
                      "resolved_at": at.isoformat(), "resolved_from": source})
    if as_json:
        print_json(items)
        return
    for item, (sec, _, _) in zip(items, found, strict=True):
        click.echo(f"{sec.key}  conId {sec.con_id}  {sec.long_name}")
        click.echo(f"  {sec.sec_type} via {sec.exchange}, zone {sec.time_zone_id} "
                   f"({item['zone']}), min tick {sec.min_tick}, resolved "
                   f"{item['resolved_at']} from {item['resolved_from']}")
        _print_sessions(item)


def _print_sessions(item: dict[str, Any]) -> None:
    if not item["known_today"]:
        click.echo(f"  {item['exchange_date']}: not in the published hours (refresh)")
        return
    for kind, sessions in item["sessions"].items():
        if not sessions:
            click.echo(f"  {kind} {item['exchange_date']}: closed")
        for s in sessions:
            click.echo(f"  {kind} {s['trade_date']}: {s['open_local'][11:16]}-"
                       f"{s['close_local'][11:16]} exchange time = {s['open_utc'][11:16]}-"
                       f"{s['close_utc'][11:16]} UTC")
    click.echo(f"  open now: {item['open_now']}")
