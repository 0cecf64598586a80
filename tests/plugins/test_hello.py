"""The example plugin, loaded through its real entry point."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write


def test_hello_command_reads_its_config_section(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", "hello:\n  greeting: Guten Tag\n")
    result = cli("--config", str(cfg), "hello", "Ada", entry_points=True)
    assert result.stdout == "Guten Tag, Ada!\n"
    result = cli("hello", "--json", entry_points=True, env={"TRADERCTL_HELLO__GREETING": "Hi"})
    assert json.loads(result.stdout) == {"greeting": "Hi", "name": "trader"}


def test_hello_check(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", "hello:\n  greeting: ''\n")
    result = cli("--config", str(cfg), "check", "hello", "--json", entry_points=True)
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["summary"] == "hello.greeting is empty"
    assert cli("check", "hello", entry_points=True).exit_code == 0
