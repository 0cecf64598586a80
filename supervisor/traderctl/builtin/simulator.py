"""Built-in plugin: the ``sim-tws`` command (the simulator itself is traderctl.simulator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl

if TYPE_CHECKING:
    from traderctl.cli.main import LazyGroup



@hookimpl
def register_commands(cli: LazyGroup) -> None:
    cli.add_lazy("sim-tws", "traderctl.commands.sim_tws:sim_tws",
                 "Run a simulated TWS speaking the real API protocol.")
