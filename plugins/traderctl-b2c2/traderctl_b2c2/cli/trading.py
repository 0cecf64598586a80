"""``b2c2 quote`` and ``b2c2 trade``: an RFQ, and an RFQ executed as a FOK order."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.output import print_json
from traderctl_b2c2.cli.common import jsonable, rest_client, settings, venue_errors

if TYPE_CHECKING:
    from traderctl_b2c2.models import Order, Quote


class DecimalType(click.ParamType):
    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Decimal:
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not result.is_finite() or result <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return result


def rfq_arguments(func: Any) -> Any:
    for decorator in reversed([
            click.argument("instrument"),
            click.argument("side", type=click.Choice(["buy", "sell"])),
            click.argument("quantity", type=DecimalType()),
            click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")]):
        func = decorator(func)
    return func


def describe(quote: Quote) -> str:
    left = quote.time_left().total_seconds()
    return (f"{quote.side.upper()} {quote.quantity} {quote.instrument} at {quote.price} "
            f"(notional {quote.notional:f}), rfq {quote.rfq_id}, valid until "
            f"{quote.valid_until.isoformat(timespec='milliseconds')} ({left:.1f}s left)")


@click.command("quote")
@rfq_arguments
@pass_app
def quote(app: App, instrument: str, side: str, quantity: Decimal, as_json: bool) -> None:
    """Request a quote: price, rfq id, valid until, time left."""
    with venue_errors(), rest_client(settings(app)) as client:
        answer = client.rfq(instrument, "buy" if side == "buy" else "sell", quantity)
    if as_json:
        print_json({**jsonable(answer),
                    "time_left_seconds": round(answer.time_left().total_seconds(), 3)})
    else:
        click.echo(describe(answer))


@click.command("trade")
@rfq_arguments
@click.option("--limit", type=DecimalType(), help="Worst acceptable quoted price.")
@click.option("--slippage", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Acceptable slippage in basis points (FOK).")
@click.option("--yes", is_flag=True, help="Execute without asking.")
@pass_app
def trade(app: App, instrument: str, side: str, quantity: Decimal, as_json: bool,
          limit: Decimal | None, slippage: int, yes: bool) -> None:
    """RFQ, then a FOK order at the quoted price within its validity.

    Without --yes the quote is shown with a live countdown and you are asked; an answer
    after the quote expired executes nothing."""
    with venue_errors(), rest_client(settings(app)) as client:
        client.limits.check(quantity, None)
        answer = client.rfq(instrument, "buy" if side == "buy" else "sell", quantity)
        if limit is not None and _worse(answer, limit):
            click.echo(f"b2c2: quoted {answer.price} is worse than --limit {limit}; "
                       "not traded", err=True)
            raise click.exceptions.Exit(1)
        if not yes and not confirm(answer, sys.stdin, sys.stderr):
            click.echo("not traded", err=True)
            raise click.exceptions.Exit(1)
        order = answer.execute(slippage)
    report(order, answer, as_json)
    if not order.filled:
        raise click.exceptions.Exit(1)


def _worse(answer: Quote, limit: Decimal) -> bool:
    return answer.price > limit if answer.side == "buy" else answer.price < limit


def report(order: Order, answer: Quote, as_json: bool) -> None:
    if as_json:
        print_json({"quote": jsonable(answer), "order": jsonable(order)})
    elif order.filled:
        click.echo(f"filled: {order.side} {order.quantity} {order.instrument} at "
                   f"{order.executed_price}, order {order.order_id}, trade "
                   f"{order.trades[0].trade_id if order.trades else '-'}")
    else:
        click.echo(f"not filled: FOK order {order.order_id} rejected at {order.price}")


def confirm(answer: Quote, stdin: IO[str], out: IO[str]) -> bool:
    """Ask; on a terminal the prompt counts down and gives up when the quote expires."""
    if stdin.isatty():
        return _countdown(answer, stdin, out)
    out.write(describe(answer) + "\nexecute? [y/N] ")
    out.flush()
    reply = stdin.readline().strip().lower()
    return reply in ("y", "yes")


def _countdown(answer: Quote, stdin: IO[str], out: IO[str]) -> bool:
    import select

    out.write(describe(answer) + "\n")
    while not answer.expired():
        left = answer.time_left().total_seconds()
        out.write(f"\r\x1b[Kexecute? {left:4.1f}s left [y/N] ")
        out.flush()
        ready, _, _ = select.select([stdin], [], [], min(0.1, left))
        if ready:
            return stdin.readline().strip().lower() in ("y", "yes")
    out.write("\r\x1b[Kquote expired\n")
    return False
