"""``traderctl order ...``: the click group (imported only when an order command runs)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from traderctl.cli.app import App, pass_app
from traderctl_orders.conditions import GRAMMAR

T = TypeVar("T")


@click.group("order")
def order() -> None:
    """Place, list, watch, modify and cancel orders, with IB order conditions."""


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """One asyncio run; a refusal is one clear line and exit 1."""
    from traderctl_orders.tws import OrderRefused

    try:
        return asyncio.run(work())
    except OrderRefused as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(1) from None


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    from traderctl_orders.table import print_table

    print_table(rows, columns)


class _TifParser(click.Command):
    """--tif takes one word, or two for GTD (click options have a fixed arity): ``--tif GTC``,
    ``--tif=GTC``, ``--tif GTD DATE``, ``--tif=GTD DATE`` or ``--tif 'GTD DATE'``. The
    ``--tif`` option declared on the command is there for --help; this takes it first."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                rest += args[i:]
                break
            if arg != "--tif" and not arg.startswith("--tif="):
                rest.append(arg)
                i += 1
                continue
            if arg == "--tif":
                if i + 1 >= len(args):
                    raise click.UsageError("--tif needs a value: DAY, GTC, IOC or GTD DATE",
                                           ctx)
                value, i = args[i + 1], i + 2
            else:
                value, i = arg.removeprefix("--tif="), i + 1
            words = value.split(None, 1)
            if [w.upper() for w in words] == ["GTD"] and i < len(args) \
                    and not args[i].startswith("-"):
                words.append(args[i])
                i += 1
            ctx.meta["orders.tif"] = words
        return super().parse_args(ctx, rest)


@order.command("place", cls=_TifParser, epilog="\b\n" + GRAMMAR)
@click.argument("symbol")
@click.argument("action", type=click.Choice(["BUY", "SELL"], case_sensitive=False))
@click.argument("qty")
@click.option("--lmt", help="Limit price (with --stp: stop-limit).")
@click.option("--mkt", is_flag=True, help="Market order.")
@click.option("--stp", help="Stop price.")
@click.option("--trail", help="Trailing stop: an AMOUNT or PCT%.")
@click.option("--tif", "tif_", metavar="DAY|GTC|IOC|GTD DATE",
              help="Time in force (default DAY); GTD takes 'YYYYMMDD HH:MM:SS ZONE'.")
@click.option("--outside-rth", is_flag=True, help="Allow filling outside regular hours.")
@click.option("--when", multiple=True, metavar="COND", help="A condition (repeatable).")
@click.option("--any", "any_", is_flag=True, help="Join the conditions by OR (default AND).")
@click.option("--cancel-when-met", is_flag=True, help="Cancel instead of submit when met.")
@click.option("--conditions-outside-rth", is_flag=True,
              help="Conditions may be met outside regular trading hours.")
@click.option("--take-profit", help="Bracket: a limit order on the other side at PRICE.")
@click.option("--stop-loss", help="Bracket: a stop order on the other side at PRICE.")
@click.option("--oca", help="One-cancels-all group name.")
@click.option("--account", help="Account (default: the only managed account).")
@click.option("--dry-run", is_flag=True, help="Print the exact order; send nothing.")
@click.option("--what-if", is_flag=True,
              help="Show IB's margin/commission estimate, then send on a confirmation or "
                   "--yes (no terminal and no --yes, or --dry-run: send nothing).")
@click.option("--yes", is_flag=True,
              help="Send without a confirmation (a live account, or after --what-if).")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def place(app: App, symbol: str, action: str, qty: str, **opts: Any) -> None:
    """Place an order for SYMBOL: BUY|SELL QTY, optionally waiting on --when conditions."""
    from traderctl_orders.place import run_place

    opts.pop("tif_")  # taken by _TifParser
    opts["json"] = opts.pop("as_json")
    opts["any"] = opts.pop("any_")
    opts["when"] = list(opts["when"])
    opts["tif"] = click.get_current_context().meta.get("orders.tif", ["DAY"])
    run_place(app, symbol, action, qty, opts)




@order.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """Open orders of every client, conditions in the --when syntax."""
    from traderctl_orders.manage import open_rows
    from traderctl_orders.tws import connected

    async def work() -> list[dict[str, Any]]:
        async with connected(app.config, offset=1) as ib:
            return await open_rows(ib)

    _emit(_run(work), as_json, ("orderId", "symbol", "action", "quantity", "orderType",
                                "lmtPrice", "auxPrice", "status", "filled", "conditions"))


@order.command("show")
@click.argument("order_id", type=int)
@pass_app
def show(app: App, order_id: int) -> None:
    """One open order, every field (JSON)."""
    from traderctl_orders.manage import open_rows
    from traderctl_orders.tws import OrderRefused, connected

    async def work() -> dict[str, Any]:
        async with connected(app.config, offset=1) as ib:
            for row in await open_rows(ib):
                if row["orderId"] == order_id:
                    return row
        raise OrderRefused(f"no open order {order_id}")

    click.echo(json.dumps(_run(work), default=str, indent=2))


@order.command("cancel")
@click.argument("order_ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Cancel every open order (global cancel).")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def cancel(app: App, order_ids: tuple[int, ...], all_: bool, as_json: bool) -> None:
    """Cancel orders placed by the order commands (or --all of every client)."""
    from traderctl_orders import audit, manage
    from traderctl_orders.tws import OrderRefused, connected

    if bool(order_ids) == all_:
        raise click.UsageError("give order ids or --all")

    def refused(row: dict[str, Any], stage: str, reason: str) -> None:
        audit.record(app.config, app.target().socket, "audit_order_refused",
                     {**row, "action": "cancel", "stage": stage, "reason": reason})

    async def work() -> list[dict[str, Any]]:
        async with connected(app.config) as ib:
            if all_:
                return await manage.cancel_all(ib)
            try:
                return await manage.cancel(ib, list(order_ids))
            except OrderRefused as exc:  # not an open order of ours: nothing was sent
                refused({"orderIds": list(order_ids)}, "order", str(exc))
                raise

    rows = _run(work)
    for row in rows:
        if "error" in row:
            refused(row, "tws", row["error"])
        else:
            audit.record(app.config, app.target().socket, "audit_order_cancelled", row)
    _emit(rows, as_json, ("orderId", "symbol", "status", "error"))
    failed = [r for r in rows if "error" in r]
    for row in failed:
        click.echo(f"error: order {row['orderId']} not cancelled: {row['error']}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


@order.command("modify")
@click.argument("order_id", type=int)
@click.option("--lmt", help="New limit price.")
@click.option("--qty", help="New total quantity.")
@click.option("--yes", is_flag=True, help="No confirmation for a live account.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def modify(app: App, order_id: int, lmt: str | None, qty: str | None, yes: bool,
           as_json: bool) -> None:
    """Change an open order's limit price and/or quantity (limits checked again; a live
    account's order needs --yes or a confirmation, as a new one does)."""
    from traderctl_orders import manage
    from traderctl_orders.ticket import TicketError, decimal_option
    from traderctl_orders.tws import connected

    try:
        new_lmt, new_qty = decimal_option(lmt, "--lmt"), decimal_option(qty, "--qty")
    except TicketError as exc:
        raise click.UsageError(str(exc)) from None
    if new_lmt is None and new_qty is None:
        raise click.UsageError("give --lmt and/or --qty")

    async def work() -> dict[str, Any]:
        async with connected(app.config) as ib:
            return await manage.Modification(app, order_id, new_lmt, new_qty, yes).run(ib)

    _emit([_run(work)], as_json, ("orderId", "symbol", "status", "changes"))


@order.command("fills")
@click.option("--since", help="ISO time (UTC if no zone) or a duration back (2h, 1d).")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def fills(app: App, since: str | None, as_json: bool) -> None:
    """Executions with their commission."""
    from traderctl_orders import manage
    from traderctl_orders.tws import connected

    async def work() -> list[dict[str, Any]]:
        start = manage.parse_since(since)
        async with connected(app.config, offset=1) as ib:
            return await manage.fills(ib, start)

    _emit(_run(work), as_json, ("time", "orderId", "symbol", "side", "shares", "price",
                                "commission"))


@order.command("watch")
@click.argument("order_id", type=int, required=False)
@click.option("--timeout", type=float, default=None, help="Stop after this many seconds.")
@pass_app
def watch(app: App, order_id: int | None, timeout: float | None) -> None:
    """Live status, fills and commission until filled or cancelled (JSON lines off a
    terminal, a table on one)."""
    from traderctl_orders.watch import run_watch

    _run(lambda: run_watch(app.config, order_id, timeout))
