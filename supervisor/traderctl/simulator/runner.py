"""Run the simulator as a foreground process until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from ._log import get_logger
from .server import SimConfig, SimTWS

log = get_logger(__name__)


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 7497,
    universe_path: str | None = None,
    scenario_path: str | None = None,
    time_scale: float | None = None,
    server_version: int | None = None,
    limits: bool | None = None,
    timezone: str | None = None,
    control_port: int | None = None,
    stop_event: asyncio.Event | None = None,
    **extra: Any,
) -> int:
    """Start a SimTWS and serve until a signal (or ``stop_event``); returns 0.

    Meant for ``asyncio.run(serve_forever(...))`` from a CLI. Options left as
    None come from the scenario file, then from the defaults (time scale 1,
    server version 178, limits on, US/Eastern).
    """
    config = SimConfig(
        host=host,
        port=port,
        universe_path=universe_path,
        scenario_path=scenario_path,
        time_scale=time_scale,
        server_version=server_version,
        limits=limits,
        timezone=timezone,
        control_port=control_port,
        **extra,
    )
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    sim = SimTWS(config)
    await sim.start()
    try:
        await stop.wait()
        log.info("sim_tws_shutdown_requested")
    finally:
        await sim.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0
