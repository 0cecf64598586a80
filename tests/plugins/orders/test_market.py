"""Orders meeting the simulated market: a price condition firing, brackets, modify, cancel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.orders.conftest import (
    audit_file,
    placed,
    run_in_pty,
    status_of,
    wait_for,
)

# The simulator evaluates conditions in regular trading hours only, as IB does, unless
# the order allows otherwise; tests run at any hour.
RTH = ("--conditions-outside-rth", "--outside-rth")


@pytest.fixture
def market_sim(sim_tws_factory: Any, tmp_path: Path) -> Any:
    """A simulator whose market is always open, AAPL's last price at 100."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"market": {"always_open": True, "interval": 0.05}}))
    sim = sim_tws_factory(scenario_path=str(scenario))
    set_price(sim, "AAPL", 100)
    return sim


def set_price(sim: Any, symbol: str, price: float) -> None:
    sim.call(sim.sim.apply("price", {"symbol": symbol, "price": price}))


def test_price_condition_fires_and_the_order_fills(market_sim: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "10", "--lmt", "200",
                             "--when", "price AAPL >= 120", *RTH, "--json"))
    oid = row["orderId"]
    assert row["status"] == "PreSubmitted"
    set_price(market_sim, "AAPL", 110)
    assert status_of(market_sim, oid) == "PreSubmitted"
    set_price(market_sim, "AAPL", 125)
    wait_for(lambda: status_of(market_sim, oid) == "Filled")
    fills = order_cli(market_sim, "fills", "--json")
    assert fills.exit_code == 0, fills.output
    [fill] = [f for f in json.loads(fills.stdout) if f["orderId"] == oid]
    assert fill["shares"] == 10 and fill["side"] == "BOT" and fill["price"] >= 120
    recent = order_cli(market_sim, "fills", "--since", "1h", "--json")
    assert [f["orderId"] for f in json.loads(recent.stdout)] == [oid]
    future = order_cli(market_sim, "fills", "--since", "2100-01-01T00:00:00", "--json")
    assert json.loads(future.stdout) == []
    bad = order_cli(market_sim, "fills", "--since", "yesterday-ish")
    assert bad.exit_code == 1 and "--since" in bad.stderr


def test_cancel_when_met(market_sim: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "10", "--lmt", "50",
                             "--when", "price AAPL <= 90", "--cancel-when-met", *RTH,
                             "--json"))
    set_price(market_sim, "AAPL", 85)
    wait_for(lambda: status_of(market_sim, row["orderId"]) == "Cancelled")


def test_or_fires_on_either(market_sim: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "1", "--lmt", "500",
                             "--when", "price AAPL >= 1000", "--when", "price AAPL <= 95",
                             "--any", *RTH, "--json"))
    set_price(market_sim, "AAPL", 94)
    wait_for(lambda: status_of(market_sim, row["orderId"]) == "Filled")


def test_and_waits_for_both(market_sim: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "1", "--lmt", "500",
                             "--when", "price AAPL >= 1000", "--when", "price AAPL <= 95",
                             *RTH, "--json"))
    set_price(market_sim, "AAPL", 94)
    set_price(market_sim, "AAPL", 1001)
    assert status_of(market_sim, row["orderId"]) == "PreSubmitted"


def test_bracket_parent_fill_activates_children_one_fill_cancels_other(
        market_sim: Any, order_cli: Any) -> None:
    rows = placed(order_cli(market_sim, "place", "AAPL", "BUY", "10", "--lmt", "101",
                            "--take-profit", "150", "--stop-loss", "80", "--json"))
    parent, take, stop = (r["orderId"] for r in rows)
    assert [r["parentId"] for r in rows] == [0, parent, parent]
    wait_for(lambda: status_of(market_sim, parent) == "Filled")
    wait_for(lambda: status_of(market_sim, take) == status_of(market_sim, stop) == "Submitted")
    set_price(market_sim, "AAPL", 160)
    wait_for(lambda: status_of(market_sim, take) == "Filled")
    wait_for(lambda: status_of(market_sim, stop) == "Cancelled")


def test_modify_then_cancel(market_sim: Any, order_cli: Any, orders_config: Path) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "10", "--lmt", "50", "--json"))
    oid = row["orderId"]
    result = order_cli(market_sim, "modify", str(oid), "--lmt", "55", "--qty", "5", "--json")
    assert result.exit_code == 0, result.output
    rec = wait_for(lambda: [r for r in market_sim.orders if r.order_id == oid
                            and float(r.order["lmtPrice"]) == 55])[-1]
    assert float(rec.order["totalQuantity"]) == 5
    result = order_cli(market_sim, "cancel", str(oid), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "Cancelled"
    missing = order_cli(market_sim, "cancel", "9999")
    assert missing.exit_code == 1 and "no open order 9999" in missing.stderr
    assert [(r["event"], r.get("stage")) for r in audit_file(orders_config)] == [
        ("audit_order_sent", None), ("audit_order_modified", None),
        ("audit_order_cancelled", None), ("audit_order_refused", "order")]


def test_a_cancel_ib_refuses_exits_1_and_is_audited(market_sim: Any, order_cli: Any,
                                                    orders_config: Path) -> None:
    from tests.plugins.orders.readonly import ReadOnlyProxy

    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "1", "--lmt", "50", "--json"))
    proxy = ReadOnlyProxy(market_sim.port).start()
    try:
        result = order_cli(proxy, "cancel", str(row["orderId"]), "--json")
    finally:
        proxy.stop()
    assert result.exit_code == 1, result.output
    assert f"order {row['orderId']} not cancelled: error 321" in result.stderr
    [shown] = json.loads(result.stdout)
    assert "Read-Only" in shown["error"] and proxy.refused == [str(row["orderId"])]
    assert status_of(market_sim, row["orderId"]) == "Submitted"
    record = audit_file(orders_config)[-1]
    assert (record["event"], record["action"], record["stage"], record["orderId"]) == (
        "audit_order_refused", "cancel", "tws", row["orderId"])


def test_cancel_all(market_sim: Any, order_cli: Any) -> None:
    for price in ("10", "11"):
        placed(order_cli(market_sim, "place", "AAPL", "BUY", "1", "--lmt", price, "--json"))
    result = order_cli(market_sim, "cancel", "--all", "--json")
    assert result.exit_code == 0, result.output
    wait_for(lambda: all(r.status == "Cancelled" for r in market_sim.orders))


def test_watch_until_filled_as_json_lines(market_sim: Any, order_cli: Any,
                                          orders_config: Path) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "3", "--lmt", "200",
                             "--when", "price AAPL >= 120", *RTH, "--json"))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "traderctl", "--set", f"ib.port={market_sim.port}",
         "--log-level", "warning", "order", "watch", str(row["orderId"]), "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=orders_config.parent.parent)
    assert watcher.stdout is not None
    first = json.loads(watcher.stdout.readline())
    assert first["status"] == "PreSubmitted" and first["conditions"] == "price AAPL >= 120"
    set_price(market_sim, "AAPL", 125)
    out, err = watcher.communicate(timeout=40)
    assert watcher.returncode == 0, err
    last = json.loads(out.splitlines()[-1])
    assert last["status"] == "Filled" and last["filled"] == 3 and last["fills"] >= 1, last


def test_watch_on_a_terminal_shows_a_table(market_sim: Any, order_cli: Any,
                                           orders_config: Path) -> None:
    [row] = placed(order_cli(market_sim, "place", "AAPL", "BUY", "4", "--lmt", "105", "--json"))
    wait_for(lambda: status_of(market_sim, row["orderId"]) == "Filled")
    code, screen = run_in_pty(["--set", f"ib.port={market_sim.port}", "--log-level", "warning",
                               "order", "watch", str(row["orderId"]), "--timeout", "20"],
                              orders_config.parent.parent)
    assert code == 0, screen
    assert "orderId" in screen and "Filled" in screen and "AAPL" in screen
