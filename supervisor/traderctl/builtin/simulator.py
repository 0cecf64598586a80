"""Built-in plugin: the ``sim-tws`` command (the simulator itself is traderctl.simulator)."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("sim-tws", "traderctl.commands.sim_tws:sim_tws",
                 "Run a simulated TWS speaking the real API protocol.")
