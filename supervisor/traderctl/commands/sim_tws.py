"""``traderctl sim-tws``: the simulated TWS / IB Gateway in the foreground."""

from __future__ import annotations

import click

from traderctl.cli.app import App, pass_app


@click.command("sim-tws")
@click.option("--host", help="Listen address (default: ib.host).")
@click.option("--port", type=int, help="API port (default: ib.port).")
@click.option("--universe", type=click.Path(exists=True, dir_okay=False),
              help="Contract universe JSON (default: the packaged universe.json).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="Scenario file (faults, accounts, phases; YAML or JSON).")
@click.option("--time-scale", type=float, help="Shrink IB's limit windows (0.01 = 100x faster).")
@click.option("--control-port", type=int, help="Line-based fault control on 127.0.0.1.")
@click.option("--no-limits", is_flag=True, help="Switch off pacing and rate limits.")
@pass_app
def sim_tws(app: App, host: str | None, port: int | None, universe: str | None,
            scenario: str | None, time_scale: float | None, control_port: int | None,
            no_limits: bool) -> None:
    """Run a TWS simulator speaking the real API protocol (for demos and tests)."""
    import asyncio

    from traderctl.simulator import serve_forever

    # the flags are the top layer of the one configuration, so they show in `config show`
    app.set_flag("ib.host", host, "--host")
    app.set_flag("ib.port", port, "--port")
    config = app.config
    raise click.exceptions.Exit(asyncio.run(serve_forever(
        host=config.get("ib.host"), port=config.get("ib.port"), universe_path=universe,
        scenario_path=scenario, time_scale=time_scale, control_port=control_port,
        limits=False if no_limits else None)))
