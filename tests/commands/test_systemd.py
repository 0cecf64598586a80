"""``traderctl systemd-unit``: the unit names the config file; nothing else sets the socket."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import write


def test_the_unit_takes_everything_from_the_config_file(cli, tmp_path: Path) -> None:
    config = write(tmp_path / "etc" / "trader.yaml", f"""
        supervisor:
          socket: /run/traderctl/traderctl.sock
          data_dir: {tmp_path}/data
        services:
          tws: {{command: sleep 1, stop: {{timeout: 5s}}}}
          slow: {{command: sleep 1, stop: {{timeout: 30s}}}}
          data: {{command: sleep 1, depends_on: [tws], stop: {{timeout: 7s}}}}
          strategy: {{command: sleep 1, depends_on: [data], stop: {{timeout: 3s}}}}
    """)
    result = cli("--config", str(config), "systemd-unit")
    assert result.exit_code == 0, result.output
    unit = result.stdout
    assert "TRADERCTL_SUPERVISOR__SOCKET" not in unit and "Environment=TRADERCTL" not in unit
    assert f"ExecStart={sys.executable} -m traderctl --config {config} supervise" in unit
    assert f"WorkingDirectory={config.parent}\n" in unit
    assert "KillMode=mixed\n" in unit and "RuntimeDirectory=traderctl\n" in unit
    # levels stop one after the other: strategy 3 s, data 7 s, then tws and slow (30 s) together
    assert "TimeoutStopSec=50s\n" in unit  # 3 + 7 + 30 + 10 s margin


def test_a_default_socket_is_called_out(cli, tmp_path: Path) -> None:
    config = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
        services:
          a: {{command: sleep 1}}
    """)
    result = cli("--config", str(config), "systemd-unit")
    assert result.exit_code == 0
    assert "supervisor.socket is not set" in result.stderr
    assert "RuntimeDirectory" not in result.stdout
    assert "TimeoutStopSec=20s\n" in result.stdout
