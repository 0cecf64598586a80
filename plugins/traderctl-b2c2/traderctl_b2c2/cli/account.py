"""``b2c2 instruments|balance|trades|ledger``: reference data and history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json, print_table
from traderctl_b2c2.cli.common import jsonable, rest_client, settings, venue_errors

if TYPE_CHECKING:
    from traderctl_b2c2.models import HistoryQuery

json_option = click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")


@click.command("instruments")
@json_option
@pass_app
def instruments(app: App, as_json: bool) -> None:
    """Instruments you may trade."""
    with venue_errors(), rest_client(settings(app)) as client:
        rows = client.instruments().root
    if as_json:
        print_json(jsonable(rows))
    else:
        print_table(["instrument", "underlier", "type"],
                    [[i.name, i.underlier, i.type] for i in rows])


@click.command("balance")
@json_option
@pass_app
def balance(app: App, as_json: bool) -> None:
    """Balance per currency (positive: B2C2 owes you)."""
    with venue_errors(), rest_client(settings(app)) as client:
        balances = client.balance().root
    if as_json:
        print_json({k: str(v) for k, v in balances.items()})
    else:
        print_table(["currency", "balance"], [[k, f"{v:f}"] for k, v in balances.items()])


def history_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
            click.option("--instrument", help="Only this instrument."),
            click.option("--since", type=click.DateTime(), help="Created at or after (UTC)."),
            click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
                         help="At most this many rows."),
            json_option]):
        func = option(func)
    return func


def _query(since: datetime | None, **filters: str | None) -> HistoryQuery:
    from datetime import UTC

    from traderctl_b2c2.models import HistoryQuery

    return HistoryQuery.model_validate(
        {"since": since.replace(tzinfo=UTC) if since else None,
         **{k: v for k, v in filters.items() if v}})


@click.command("trades")
@history_options
@pass_app
def trades(app: App, instrument: str | None, since: datetime | None, limit: int,
           as_json: bool) -> None:
    """Trade history, newest first."""
    from traderctl_b2c2.endpoints import Api

    query = _query(since, instrument=instrument)
    with venue_errors(), rest_client(settings(app)) as client:
        rows = list(client.paginate(Api.trade_history, query, max_items=limit))
    if as_json:
        print_json(jsonable(rows))
    else:
        print_table(["created", "instrument", "side", "quantity", "price", "trade_id"],
                    [[t.created.isoformat(timespec="seconds"), t.instrument, t.side,
                      t.quantity, t.price, t.trade_id] for t in rows])


@click.command("ledger")
@history_options
@click.option("--currency", help="Only this currency.")
@pass_app
def ledger(app: App, instrument: str | None, since: datetime | None, limit: int,
           as_json: bool, currency: str | None) -> None:
    """Ledger rows (two per trade), newest first."""
    from traderctl_b2c2.endpoints import Api

    query = _query(since, instrument=instrument, currency=currency)
    with venue_errors(), rest_client(settings(app)) as client:
        rows = list(client.paginate(Api.ledger, query, max_items=limit))
    if as_json:
        print_json(jsonable(rows))
    else:
        print_table(["created", "currency", "amount", "type", "reference"],
                    [[e.created.isoformat(timespec="seconds"), e.currency, e.amount, e.type,
                      e.reference] for e in rows])
