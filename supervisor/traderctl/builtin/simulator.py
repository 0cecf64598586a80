"""Built-in plugin: the ``sim-tws`` command (the simulator itself is traderctl.simulator)."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from traderctl.commands.sim_tws import sim_tws

    cli.add_command(sim_tws)
