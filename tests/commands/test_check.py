"""``traderctl check`` offline: unknown is a check result (exit 3), said in a few words."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.commands.test_ib_status import config
from tests.conftest import write


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_is_a_check_result_not_a_config_error(cli, tmp_path: Path) -> None:
    cfg = config(tmp_path, f"http://127.0.0.1:{closed_port()}/status", ["NYSE"])
    result = cli("--config", cfg, "check", "ib_status")
    assert result.exit_code == 3, result.output
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("ib_status")]
    assert "connection to 127.0.0.1 refused" in row and len(row) < 120
    assert "HTTPConnectionPool" not in result.stdout + result.stderr


def test_an_invalid_config_is_exit_2(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "trader.yaml", "supervisor: {log_backups: many}\n")
    assert cli("--config", str(cfg), "check").exit_code == 2


def test_a_failed_fetch_is_not_labelled_from_ib(cli, tmp_path: Path) -> None:
    cfg = config(tmp_path, f"http://127.0.0.1:{closed_port()}/status", ["NYSE"])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 2
    assert "from IB" not in result.stdout and "fetch failed at" in result.stdout
