"""``traderctl ib-status`` and the ``ib_status`` check, through a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write
from tests.ibstatus.helpers import StatusServer, fixture_html
from traderctl.plugin.manager import module_plugin

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def server() -> Iterator[StatusServer]:
    with StatusServer() as srv:
        yield srv


def config(tmp_path: Path, url: str, exchanges: list[str], enabled: bool = True) -> str:
    path = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
          socket: {tmp_path}/run/traderctl.sock
        checks:
          ib_status:
            url: "{url}"
            timeout: 500ms
            retries: 0
            exchanges: {json.dumps(exchanges)}
            enabled: {json.dumps(enabled)}
    """)
    return str(path)


def test_ok(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("current_normal.html")), ["NYSE"])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("IB status: ok\n")
    assert "exchanges: NYSE" in result.stdout
    assert "from IB" in result.stdout


def test_problem_on_an_exchange_you_use_exits_1(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["ASX"])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("IB status: problem\n")
    assert "  problem: ASX: trading halted [exchange:ASX] (exchanges ASX)" in result.stdout
    row = next(ln for ln in result.stdout.splitlines() if ln.startswith("problem "))
    assert "ASX: trading halted" in row and "exchange:ASX" in row
    assert "SEHK holiday" not in result.stdout  # not relevant: only shown with --all


def test_problem_elsewhere_is_degraded_and_exits_0(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")),
                 ["NYSE", "Nasdaq"])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("IB status: degraded\n")
    assert "exchanges: NYSE, NASDAQ" in result.stdout  # resolved through the alias table
    row = next(ln for ln in result.stdout.splitlines() if ln.startswith("degraded "))
    assert "ASX: trading halted" in row and "other:ASX" in row


def test_platform_wide_problem_exits_1_without_exchanges(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("platform_outage.html")), [])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 1, result.output
    assert "Login problems" in result.stdout
    assert "none configured (platform-wide systems only)" in result.stdout


def test_maintenance_exits_0(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("maintenance.html")),
                 ["NYSE", "IBIS", "ASX", "SEHK", "CME"])
    result = cli("--config", cfg, "ib-status", "--json")
    data = json.loads(result.stdout)
    assert data["verdict"] == "maintenance" and result.exit_code == 0, result.output


def test_garbled_page_is_unknown_exit_2(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("garbled.html")), ["NYSE"])
    result = cli("--config", cfg, "ib-status")
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith("IB status: unknown\n")
    assert "not understood" in result.stdout


def test_http_500_is_unknown_exit_2(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", "boom", status=500), ["NYSE"])
    result = cli("--config", cfg, "ib-status", "--json")
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "unknown" and data["fetch"]["http_status"] == 500
    assert "could not fetch" in data["reason"]


def test_timeout_is_unknown_exit_2_within_the_timeout(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("current_normal.html"), delay=2.0),
                 ["NYSE"])
    started = time.monotonic()
    result = cli("--config", cfg, "ib-status")
    assert time.monotonic() - started < 1.8
    assert result.exit_code == 2, result.output
    assert "could not fetch IB status page" in result.stdout


@pytest.mark.parametrize("how", ["env", "config"])
def test_disabled_exits_0_and_fetches_nothing(cli, server, tmp_path, how) -> None:
    url = server.serve("/s", fixture_html("platform_outage.html"))
    cfg = config(tmp_path, url, ["NYSE"], enabled=how != "config")
    env = {"TRADER_CHECK": "False"} if how == "env" else {}
    result = cli("--config", cfg, "ib-status", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("IB status: disabled\n")
    assert ("TRADER_CHECK=False" if how == "env" else "enabled is false") in result.stdout
    assert server.hits["/s"] == 0


def test_all_shows_every_notice_with_its_attribution(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["NYSE"])
    result = cli("--config", cfg, "ib-status", "--all")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for headline in ("No problems", "ASX: trading halted", "CME Globex connectivity",
                     "SEHK holiday"):
        assert f"- {headline}:" in out  # one line per notice, with impact and reason
    assert "other:CME" in out and "other:SEHK" in out and "other:ASX" in out
    assert "names only exchanges you do not use" in out


def test_json_without_and_with_all(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["ASX"])
    plain = json.loads(cli("--config", cfg, "ib-status", "--json").stdout)
    assert plain["verdict"] == "problem" and plain["check_status"] == "fail"
    assert plain["user_exchanges"] == ["ASX"]
    assert [n["headline"] for n in plain["relevant_notices"]] == ["ASX: trading halted"]
    assert "all_notices" not in plain
    full = json.loads(cli("--config", cfg, "ib-status", "--json", "--all").stdout)
    assert len(full["all_notices"]) == 4
    assert {n["attribution"] for n in full["all_notices"]} >= {"exchange:ASX", "other:CME"}
    assert full["fetch"]["from_cache"] is True  # the second call used the shared cache
    assert server.hits["/s"] == 1
    assert (tmp_path / "data" / "cache").is_dir()


def test_plugins_add_exchanges_through_the_hook(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["NYSE"])
    symbols = module_plugin("symbols_fixture", ib_status_exchanges=lambda config: ["XASX"])
    broken = module_plugin("broken_fixture", ib_status_exchanges=lambda config: 1 / 0)
    result = cli("--config", cfg, "ib-status", "--json", plugins=(symbols, broken))
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["user_exchanges"] == ["NYSE", "ASX"]
    assert data["exchanges_configured"] == ["NYSE", "XASX"]
    assert "broken_fixture" in data["exchange_hook_failures"]
    assert "plugin broken_fixture could not list its exchanges" in result.stderr


def test_ib_status_is_a_check(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["ASX"])
    result = cli("--config", cfg, "check", "ib_status", "--json")
    assert result.exit_code == 1, result.output
    (row,) = json.loads(result.stdout)
    assert row["check"] == "ib_status" and row["status"] == "fail"
    assert row["details"]["verdict"] == "problem"
    assert row["details"]["notices"][0]["attribution"] == "exchange:ASX"


def test_degraded_check_warns_and_passes(cli, server, tmp_path) -> None:
    cfg = config(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["NYSE"])
    result = cli("--config", cfg, "check", "ib_status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "warn"
