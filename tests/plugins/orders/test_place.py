"""order place against the simulator: every condition kind on the wire, dry-run, what-if."""

from __future__ import annotations

import json
from typing import Any

from tests.plugins.orders.conftest import placed, read_back


def test_every_condition_kind_on_the_wire_and_read_back(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(
        sim_tws, "place", "AAPL", "BUY", "10", "--lmt", "100", "--json",
        "--when", "price AAPL >= 150 via last",
        "--when", "time >= 2030-11-23 14:30 America/New_York",
        "--when", "margin < 20%",
        "--when", "execution MSFT STK SMART",
        "--when", "volume AAPL > 1000000",
        "--when", "change MSFT <= -3%",
        "--conditions-outside-rth")
    [row] = placed(result)
    [rec] = [r for r in sim_tws.orders if r.order_id == row["orderId"]]
    assert len(rec.conditions) == 6, rec.conditions
    assert rec.conditions_ignore_rth and not rec.conditions_cancel_order
    [trade] = [t for t in read_back(sim_tws) if t.order.permId == rec.perm_id]
    conds = trade.order.conditions
    assert [c.condType for c in conds] == [1, 3, 4, 5, 6, 7]
    assert all(c.conjunction == "a" for c in conds)
    price, when, margin, execution, volume, change = conds
    aapl = trade.contract.conId
    assert (price.isMore, price.price, price.conId, price.triggerMethod) == (True, 150, aapl, 2)
    assert price.exch
    assert when.time == "20301123 14:30:00 America/New_York" and when.isMore
    assert (margin.isMore, margin.percent) == (False, 20)
    assert (execution.symbol, execution.secType, execution.exch) == ("MSFT", "STK", "SMART")
    assert (volume.isMore, volume.volume, volume.conId) == (True, 1000000, aapl)
    assert (change.isMore, change.changePercent) == (False, -3) and change.conId != aapl

    listed = order_cli(sim_tws, "list", "--json")
    assert listed.exit_code == 0, listed.output
    [mine] = [r for r in json.loads(listed.stdout) if r["orderId"] == row["orderId"]]
    assert mine["conditions"] == (
        "price AAPL >= 150 via last AND time >= 2030-11-23 14:30:00 America/New_York AND "
        "margin <= 20% AND execution MSFT STK SMART AND volume AAPL >= 1000000 AND "
        "change MSFT <= -3%")
    assert mine["status"] == "PreSubmitted"


def test_any_joins_by_or(sim_tws: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1", "--json",
                             "--when", "price AAPL >= 100000", "--when", "margin < 1%",
                             "--any", "--cancel-when-met"))
    [trade] = [t for t in read_back(sim_tws) if t.order.orderId == row["orderId"]]
    assert [c.conjunction for c in trade.order.conditions] == ["o", "o"]
    assert trade.order.conditionsCancelOrder


def test_parse_error_sends_nothing(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1",
                       "--when", "price AAPL => 150")
    assert result.exit_code == 2
    assert "'=>'" in result.stderr and "condition grammar" in result.stderr
    assert sim_tws.requests_named("placeOrder") == []


def test_dry_run_prints_order_and_sends_nothing(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "SELL", "5", "--stp", "90", "--lmt", "89",
                       "--when", "price AAPL <= 95", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "DRY RUN" in result.stdout and "price AAPL <= 95" in result.stdout
    assert '"orderType": "STP LMT"' in result.stdout and "PriceCondition" in result.stdout
    assert sim_tws.requests_named("placeOrder") == []


def test_what_if_shows_margin_and_commission(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "100", "--mkt", "--what-if", "--json")
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.stdout)["what_if"]
    assert float(estimate["initMarginChange"]) > 0 and float(estimate["commission"]) > 0
    assert all(r.order.get("whatIf") in ("1", "True") for r in sim_tws.orders)


def test_dry_run_trail_percent_gtd_oca(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "SELL", "3", "--trail", "2.5%",
                       "--tif", "GTD", "20301201 16:00:00 America/New_York",
                       "--oca", "exit-1", "--outside-rth", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    [order] = json.loads(result.stdout)["orders"]
    assert (order["orderType"], order["trailingPercent"], order["tif"]) == ("TRAIL", 2.5, "GTD")
    assert order["goodTillDate"] == "20301201 16:00:00 America/New_York"
    assert order["ocaGroup"] == "exit-1" and order["outsideRth"] is True
    assert sim_tws.requests_named("placeOrder") == []


def test_trail_amount_is_sent_and_show_prints_it(sim_tws: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(sim_tws, "place", "AAPL", "SELL", "3", "--trail", "1.5",
                             "--tif", "GTC", "--json"))
    [rec] = [r for r in sim_tws.orders if r.order_id == row["orderId"]]
    assert rec.order["orderType"] == "TRAIL" and float(rec.order["auxPrice"]) == 1.5
    assert rec.order["tif"] == "GTC"
    shown = order_cli(sim_tws, "show", str(row["orderId"]))
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["orderType"] == "TRAIL"
    table = order_cli(sim_tws, "list")
    assert table.exit_code == 0 and "TRAIL" in table.stdout


def test_unknown_symbol_is_refused(sim_tws: Any, order_cli: Any) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1",
                       "--when", "price NOSUCHTHING >= 1")
    assert result.exit_code == 1 and "cannot resolve NOSUCHTHING" in result.stderr
    assert sim_tws.requests_named("placeOrder") == []
