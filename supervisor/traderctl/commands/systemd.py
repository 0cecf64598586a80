"""``traderctl systemd-unit``: a unit file for this install (venv, config path, user).

The unit and the CLI agree by construction: the unit names the config file, and the
socket (like everything else) comes from that file; nothing is set in the unit's
environment that the CLI would not see.
"""

from __future__ import annotations

import getpass
import math
import os
import shlex
import sys
from collections.abc import Mapping
from typing import Any

import click

from traderctl.cli.app import App, pass_app

UNIT = """\
[Unit]
Description=traderctl supervisor (TWS / IB Gateway and trading services)
Documentation=https://github.com/traderctl/traderctl
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User={user}
WorkingDirectory={working_directory}
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=30s
Restart=on-failure
RestartSec=2s
# stop runs level by level, dependents first: the sum of each level's slowest stop
TimeoutStopSec={stop_timeout}s
# SIGTERM to the supervisor only (it stops services in order), SIGKILL to leftovers after
KillMode=mixed
Delegate=yes
{runtime_directory}Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=multi-user.target
"""
RUNTIME_DIRECTORY = "/run/traderctl"
MARGIN = 10  # seconds for the supervisor's own shutdown and the last reaps


def render_unit(executable: str, config_path: str, user: str, stop_timeout: int,
                socket: str) -> str:
    exec_start = " ".join(shlex.quote(a) for a in
                          [executable, "-m", "traderctl", "--config", config_path, "supervise"])
    runtime = ""
    if os.path.dirname(socket) == RUNTIME_DIRECTORY:
        runtime = "RuntimeDirectory=traderctl\nRuntimeDirectoryMode=0700\n"
    return UNIT.format(user=user, exec_start=exec_start, stop_timeout=stop_timeout,
                       working_directory=os.path.dirname(config_path),
                       runtime_directory=runtime)


def stop_seconds(spec: Mapping[str, Any]) -> float:
    """The longest one service's stop may take: its grace (tws: IBC's STOP) and timeout."""
    return float(spec.get("stop_grace") or 0) + float(spec["stop"]["timeout"])


def stop_timeout(services: Mapping[str, Mapping[str, Any]]) -> int:
    """Seconds for a full shutdown: the supervisor stops level by level (the services
    nothing depends on first), each level as long as its slowest service."""
    from traderctl.services.spec import topological_order

    depth: dict[str, int] = {}
    for name in topological_order(services):
        deps = [d for d in services[name]["depends_on"] if d in depth]
        depth[name] = 1 + max((depth[d] for d in deps), default=-1)
    slowest: dict[int, float] = {}
    for name, level in depth.items():
        slowest[level] = max(slowest.get(level, 0.0), stop_seconds(services[name]))
    return math.ceil(sum(slowest.values())) + MARGIN


@click.command("systemd-unit")
@pass_app
def systemd_unit(app: App) -> None:
    """Print a systemd unit for the current venv, config file and user."""
    config = app.config
    source = os.path.abspath(config.source) if config.source else "/etc/traderctl/trader.yaml"
    if config.origin(("supervisor", "socket")) == "default":
        print(f"warning: supervisor.socket is not set in {source}: its default depends on "
              "XDG_RUNTIME_DIR, which differs between systemd and a login shell; set "
              f"supervisor.socket: {RUNTIME_DIRECTORY}/traderctl.sock in the file",
              file=sys.stderr)
    click.echo(render_unit(sys.executable, source, getpass.getuser(),
                           stop_timeout(config.section("services")),
                           config.get("supervisor.socket")), nl=False)
