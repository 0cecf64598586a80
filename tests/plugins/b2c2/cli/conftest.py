"""Fixtures for the b2c2 commands: a config file pointing at the fake venue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from traderctl.cli.app import App
from traderctl.cli.main import build_cli
from traderctl.plugin.manager import PluginManager
from traderctl_b2c2.sim import FakeVenue

SECRET = "sim-secret-token-4711"


@pytest.fixture
def secret_venue() -> Iterator[FakeVenue]:
    with FakeVenue(tokens={SECRET: {"USD": "1000000", "BTC": "10", "ETH": "3"}},
                   price_interval=0.02) as venue:
        yield venue


@pytest.fixture
def b2c2(make_pm: Callable[..., PluginManager], clean_env: dict[str, str],
         secret_venue: FakeVenue, tmp_path: Path) -> Callable[..., Result]:
    """``b2c2("balance", "--json")`` runs ``traderctl b2c2 balance --json`` in-process,
    with the plugin loaded from its entry point and a config naming the venue."""
    config = tmp_path / "trader.yaml"
    config.write_text(f"supervisor:\n  socket: {tmp_path}/s.sock\n  data_dir: {tmp_path}/d\n"
                      f"b2c2:\n  env: custom\n  api_url: {secret_venue.api_url}\n"
                      f"  ws_url: {secret_venue.ws_url}\n  api_key: {SECRET}\n"
                      "  timeout: 5s\n  max_quantity: 5\n")

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            config_file: Path = config) -> Result:
        full_env = {**clean_env, **(env or {})}
        pm = make_pm(entry_points=True, env=env)
        return CliRunner().invoke(build_cli(pm), ["--config", str(config_file), *args],
                                  obj=App(pm, env=full_env), env=env, input=input,
                                  catch_exceptions=False)
    return run
