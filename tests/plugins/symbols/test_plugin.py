"""The plugin as the host loads it: its own hook specs, firstresult, light imports,
its exchanges in the IB status check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from traderctl import hookimpl
from traderctl.securities import SecurityDefinition
from traderctl_symbols.resolve import Resolution, Resolved, ResolveOptions


def test_loaded_from_its_entry_point_with_its_own_hooks(make_pm) -> None:  # type: ignore[no-untyped-def]
    pm = make_pm(entry_points=True)
    assert pm.records["symbols"].distribution == "traderctl-symbols"
    assert not pm.load_errors
    spec = pm.hook.resolve_securities.spec
    assert spec is not None and spec.opts["firstresult"]
    assert pm.hook.register_symbol_sources.spec is not None
    assert {"resolve_securities", "register_symbol_sources", "register_job_kinds",
            "ib_status_exchanges", "register_commands"} <= set(pm.hooks_of("symbols"))


class Master:
    """A third-party security master answering first (tryfirst), the firstresult way."""

    calls: list[list[str]] = []

    @hookimpl(tryfirst=True)
    def resolve_securities(self, symbols: list[str]) -> Resolution | None:
        self.calls.append(list(symbols))
        if symbols != ["INTERNAL"]:
            return None
        sec = SecurityDefinition(999, "INTERNAL", "STK", "SMART", "NYSE", "USD")
        from traderctl_symbols.query import SymbolQuery

        return Resolution("master", [Resolved(SymbolQuery("INTERNAL"), "resolved", sec,
                                              "master")])


def test_resolve_securities_is_firstresult_and_honours_tryfirst(  # type: ignore[no-untyped-def]
        make_pm, sim_tws, data_dir: Path) -> None:
    from traderctl.config import Override
    from traderctl.plugin.sections import load_with_plugins

    pm = make_pm(entry_points=True)
    pm.register(Master(), name="master")  # after the symbols plugin added the spec
    config = load_with_plugins(pm, None, os.environ, [
        Override("ib.port", str(sim_tws.port), "test"),
        Override("ib.host", "127.0.0.1", "test")])
    mine = pm.hook.resolve_securities(symbols=["INTERNAL"], config=config, options=None)
    assert mine.universe == "master" and mine.securities["INTERNAL"].con_id == 999
    theirs = pm.hook.resolve_securities(symbols=["AAPL", "BHP:ASX"], config=config,
                                        options=ResolveOptions(universe="hist", progress=False))
    assert Master.calls == [["INTERNAL"], ["AAPL", "BHP:ASX"]]
    assert theirs.universe == "hist"
    assert {k: v.con_id for k, v in theirs.securities.items()} == {"AAPL": 265598,
                                                                   "BHP:ASX": 482152746}
    from traderctl.ibstatus.configured import user_exchanges

    assert set(user_exchanges(config, pm).names) >= {"NASDAQ", "ASX"}


def test_no_store_no_exchanges_and_no_file_created(make_pm, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from traderctl.plugin.sections import load_with_plugins

    pm = make_pm(entry_points=True)
    config = load_with_plugins(pm, None, os.environ, [])
    from traderctl_symbols.plugin import ib_status_exchanges

    assert ib_status_exchanges(config) == []
    assert not (data_dir / "symbols").exists()


def run_importtime(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "traderctl", *args],
                         capture_output=True, text=True, cwd=cwd, env=env, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--help"], ["symbols", "--help"],
                                  ["symbols", "universes"]])
def test_commands_import_nothing_heavy(args: list[str], data_dir: Path) -> None:
    loaded = run_importtime(args, data_dir.parent)
    assert "traderctl_symbols.hookspecs" in loaded  # the plugin was loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("ib_async", "requests", "pandas",
                                                             "rich", "numpy"))
    assert not heavy


def test_help_lists_the_group(cli: Any) -> None:
    result = cli("--help", entry_points=True)
    assert "symbols" in result.stdout and "resolution to IB contracts" in result.stdout
    result = cli("symbols", "--help", entry_points=True)
    for name in ("resolve", "fetch", "list", "show", "export", "universes", "sources"):
        assert name in result.stdout
    assert json.loads(cli("config", "show", "--json", entry_points=True).stdout)["symbols"][
        "prefer_primary"][0] == "NASDAQ"
