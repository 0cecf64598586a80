"""The ``b2c2`` command group. Subcommands are imported only when run (fast ``--help``)."""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "instruments": ("traderctl_b2c2.cli.account:instruments", "Instruments you may trade"),
    "balance": ("traderctl_b2c2.cli.account:balance", "Balance per currency"),
    "trades": ("traderctl_b2c2.cli.account:trades", "Trade history"),
    "ledger": ("traderctl_b2c2.cli.account:ledger", "Ledger history"),
    "quote": ("traderctl_b2c2.cli.trading:quote", "Request a quote (RFQ)"),
    "trade": ("traderctl_b2c2.cli.trading:trade", "RFQ, confirm, then a FOK order"),
    "stream": ("traderctl_b2c2.cli.stream:stream", "Live prices"),
    "ui": ("traderctl_b2c2.cli.ui:ui", "Terminal UI: RFQ, balances, history, prices"),
    "sim": ("traderctl_b2c2.cli.sim:sim", "Run the local fake venue"),
}


class LazyCommands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


@click.group("b2c2", cls=LazyCommands)
def b2c2() -> None:
    """B2C2 request-for-quote venue: quotes, trades, balances, live prices.

    Configure the ``b2c2`` section (``env``, ``api_key`` or the environment variable
    B2C2_APIKEY); ``traderctl b2c2 sim`` runs a local fake venue to try it.
    """
