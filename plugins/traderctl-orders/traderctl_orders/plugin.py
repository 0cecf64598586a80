"""Hook implementations of traderctl-orders (the entry module: imports stay light).

The ``orders`` config section (limits and the account allow-list) and the lazily
imported ``traderctl order ...`` group (:mod:`traderctl_orders.cli`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traderctl import hookimpl


@hookimpl
def register_config(register: Callable[[Any], None]) -> None:
    from traderctl.config import ConfigSection, Field, Section, Str
    from traderctl.config.schema import Float, Int, ListOf, MapOf

    limits = Section({
        "max_quantity": Field(Float(), None, "Largest quantity of this symbol in one order."),
        "max_notional": Field(Float(), None, "Largest quantity x price of this symbol."),
    }, doc="Limits for one symbol, overriding the section's.")
    register(ConfigSection("orders", Section({
        "max_quantity": Field(Float(min=0), None,
                              "Largest quantity in one order (none: no limit)."),
        "max_notional": Field(Float(min=0), None,
                              "Largest quantity x price of one order, in the contract's "
                              "currency (none: no limit)."),
        "symbols": Field(MapOf(limits), {}, "Per-symbol limits, e.g. {TSLA: {max_quantity: 10}}."),
        "accounts": Field(ListOf(Str(), allow_string=True), [],
                          "Accounts orders may go to (empty: any managed account)."),
        "client_id": Field(Int(), None,
                           "API client id of order commands (default ib.client_id + 100); "
                           "order cancel/modify only reach orders of the same client id."),
    }, doc="Order commands: limits checked before anything is sent.")))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("order", "traderctl_orders.cli:order",
                 "Place, list, watch, modify and cancel orders, with IB order conditions.")
