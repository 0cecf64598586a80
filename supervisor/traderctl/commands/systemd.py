"""``traderctl systemd-unit``: a unit file for this install (venv, config path, user)."""

from __future__ import annotations

import getpass
import os
import shlex
import sys

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
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=30s
Restart=on-failure
RestartSec=2s
TimeoutStopSec={stop_timeout}s
KillMode=mixed
RuntimeDirectory=traderctl
RuntimeDirectoryMode=0700
Environment=TRADERCTL_SUPERVISOR__SOCKET=/run/traderctl/traderctl.sock
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=multi-user.target
"""


def render_unit(executable: str, config_path: str, user: str, stop_timeout: int) -> str:
    exec_start = " ".join(shlex.quote(a) for a in
                          [executable, "-m", "traderctl", "--config", config_path, "supervise"])
    return UNIT.format(user=user, exec_start=exec_start, stop_timeout=stop_timeout)


@click.command("systemd-unit")
@pass_app
def systemd_unit(app: App) -> None:
    """Print a systemd unit for the current venv, config file and user."""
    config = app.config
    source = os.path.abspath(config.source) if config.source else "/etc/traderctl/trader.yaml"
    # stop timeout: the slowest service's stop timeout, plus room for the dependency levels
    services = config.section("services").values()
    slowest = max((s["stop"]["timeout"] for s in services), default=10.0)
    click.echo(render_unit(sys.executable, source, getpass.getuser(),
                           int(slowest * 2 + 10)), nl=False)
