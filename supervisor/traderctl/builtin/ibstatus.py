"""Built-in plugin: ``traderctl ib-status`` and the ``ib_status`` check.

The ``checks.ib_status`` config section is declared with the other check settings in
:mod:`traderctl.checks.plugin`.
"""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("ib-status", "traderctl.commands.ib_status:ib_status",
                 "IB system status for your exchanges.")


@hookimpl
def register_checks(register: Any) -> None:
    from traderctl.checks import Check
    from traderctl.ibstatus.configured import ib_status_check

    register(Check("ib_status", ib_status_check,
                   "IB's status page shows no problem on your exchanges or platform-wide."))
