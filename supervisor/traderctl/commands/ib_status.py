"""``traderctl ib-status``: what IB's status page means for the exchanges you trade.

Exit 0 for ok, degraded, maintenance and disabled; 1 for a problem that affects you; 2 when the
answer is unknown (page unreachable or not understood: never ok, never an outage).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json, print_table

EXIT_PROBLEM = 1
EXIT_UNKNOWN = 2


def exit_code_for(verdict: str) -> int:
    """0 for ok, degraded, maintenance and disabled; 1 for problem; 2 for unknown."""
    return {"problem": EXIT_PROBLEM, "unknown": EXIT_UNKNOWN}.get(str(verdict), 0)


@click.command("ib-status")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--all", "show_all", is_flag=True,
              help="Every notice on the page with its attribution, not only the relevant ones.")
@pass_app
def ib_status(app: App, as_json: bool, show_all: bool) -> None:
    """IB system status for your exchanges (exit 1 on a problem, 2 when unknown)."""
    from traderctl.ibstatus.configured import configured_verdict, user_exchanges

    config = app.config
    exchanges = user_exchanges(config, app.pm)
    for plugin, error in exchanges.failed.items():
        print(f"warning: plugin {plugin} could not list its exchanges: {error}", file=sys.stderr)
    verdict = configured_verdict(config, app.pm, app.env, exchanges=exchanges.names)
    if as_json:
        data = verdict.to_json()
        if not show_all:
            data.pop("all_notices", None)
        data["exchanges_configured"] = list(exchanges.names)
        if exchanges.failed:
            data["exchange_hook_failures"] = dict(exchanges.failed)
        print_json(data)
    else:
        _print_human(verdict, show_all)
    raise click.exceptions.Exit(exit_code_for(verdict.verdict))


def _print_human(verdict: Any, show_all: bool) -> None:
    print(f"IB status: {verdict.verdict}")
    print(f"  {verdict.reason}")
    mine = ", ".join(verdict.user_exchanges) or "none configured (platform-wide systems only)"
    print(f"  exchanges: {mine}")
    fetch = verdict.fetch
    if fetch is not None:
        when = fetch.fetched_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        if not fetch.ok:  # the reason above says why; this is no page "from IB"
            print(f"  source: {fetch.url} (fetch failed at {when})")
        else:
            origin = "cache" if fetch.from_cache else "IB"
            print(f"  source: {fetch.url} (fetched {when}, from {origin})")
    notices = verdict.all_notices if show_all else verdict.relevant_notices
    if notices:
        print()
        headers = ["impact", "status", "table", "headline", "attribution", "updated"]
        rows = [(a.impact, a.notice.status, a.notice.table, _clip(a.notice.headline, 60),
                 a.attribution, _stamp(a.notice.updated or a.notice.created)) for a in notices]
        print_table(headers, rows)
        if show_all:
            print()
            for a in notices:
                print(f"- {a.notice.headline or '(no headline)'}: {a.impact}, {a.reason}")
    elif show_all and verdict.verdict not in ("disabled", "unknown"):
        print("\n  (no notices on the page)")


def _stamp(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if value is not None else "-"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
