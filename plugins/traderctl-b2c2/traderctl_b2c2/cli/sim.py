"""``b2c2 sim``: run the local fake venue in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import threading

import click

from traderctl_b2c2.config import ENV_KEY


@click.command("sim")
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="REST port (0: any free port).")
@click.option("--ws-port", type=click.IntRange(0, 65535), default=None,
              help="WebSocket port (default: the REST port + 1, or any with --port 0).")
@click.option("--quote-ttl", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds a quote stays valid.")
@click.option("--interval", type=click.FloatRange(0), default=0.5, show_default=True,
              help="Seconds between price frames per subscription.")
@click.option("--stamp", is_flag=True, hidden=True,
              help="Add sent_ns (send time, ns since the epoch) to price frames (benchmarks).")
def sim(port: int, ws_port: int | None, quote_ttl: float, interval: float,
        stamp: bool) -> None:
    """A fake B2C2 venue on 127.0.0.1: REST and WebSocket, balances, RFQs, prices.

    The token it accepts is $B2C2_APIKEY if set, else ``sim-token``. Fault switches:
    POST /_sim/faults/ with {"drop": true}, {"stop_pricing": true}, {"slow_frames": 1},
    {"cannot_quote": true} or {"rate_limit": 3}."""
    from traderctl_b2c2.sim import FakeVenue
    from traderctl_b2c2.sim.state import DEFAULT_BALANCES

    token = os.environ.get(ENV_KEY) or "sim-token"
    if ws_port is None:
        ws_port = port + 1 if port else 0
    venue = FakeVenue(port=port, ws_port=ws_port, tokens={token: DEFAULT_BALANCES},
                      quote_ttl=quote_ttl, price_interval=interval, stamp=stamp).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"fake B2C2 venue: REST {venue.api_url}  WebSocket {venue.ws_url}")
    click.echo("use it with:\n  b2c2:\n    env: custom\n"
               f"    api_url: {venue.api_url}\n    ws_url: {venue.ws_url}")
    if token == "sim-token":
        click.echo(f"  and {ENV_KEY}=sim-token in the environment")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        venue.stop()
        click.echo("fake venue stopped", err=True)
