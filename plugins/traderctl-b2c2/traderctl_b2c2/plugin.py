"""Entry module of traderctl-b2c2: the hooks. Imports only click and traderctl's config types;
pydantic, requests, websockets and textual are imported by the commands that use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from traderctl import hookimpl


@hookimpl
def register_config(register: Callable[[Any], None]) -> None:
    from traderctl_b2c2.config import section

    register(section())


@hookimpl
def register_commands(cli: click.Group) -> None:
    add_lazy = getattr(cli, "add_lazy", None)
    if add_lazy is not None:
        add_lazy("b2c2", "traderctl_b2c2.cli.group:b2c2", "B2C2 RFQ venue: quotes, trades, "
                 "balances, prices, terminal UI, fake venue")
    else:  # a plain click group: the group module itself is light too
        from traderctl_b2c2.cli.group import b2c2

        cli.add_command(b2c2)


@hookimpl
def register_checks(register: Callable[[Any], None]) -> None:
    from traderctl.checks import Check
    from traderctl_b2c2.checks import api_answers, stream_fresh

    register(Check("b2c2_api", api_answers, "B2C2 REST API answers with the configured key."))
    register(Check("b2c2_stream", stream_fresh, "A B2C2 price stream delivers fresh prices."))
