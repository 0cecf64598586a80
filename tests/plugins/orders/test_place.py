"""order place against the simulator: every condition kind on the wire, dry-run, what-if."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.orders.conftest import audit_file, placed, read_back, run_in_pty


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


def sent_orders(sim: Any) -> list[Any]:
    """Every placeOrder the simulator received, decoded (what-ifs too: it keeps no record
    of those in ``sim.orders``)."""
    from traderctl.simulator.orders import decode_place_order
    from traderctl.simulator.protocol import MAX_SERVER_VERSION

    return [decode_place_order(list(r.fields), MAX_SERVER_VERSION)
            for r in sim.requests_named("placeOrder")]


def what_ifs(sim: Any) -> list[Any]:
    return [d for d in sent_orders(sim) if d.order.get("whatIf") in ("1", "True")]


def test_what_if_without_a_terminal_is_a_preview(sim_tws: Any, order_cli: Any,
                                                 orders_config: Path) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "100", "--mkt", "--what-if", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["sent"] is False and "placed" not in shown
    estimate = shown["what_if"]
    assert estimate["initMarginChange"] > 0 and estimate["commission"] > 0
    assert estimate["commissionCurrency"] == "USD" and estimate["maxCommission"] is None
    assert len(sent_orders(sim_tws)) == len(what_ifs(sim_tws)) == 1 and sim_tws.orders == []
    assert audit_file(orders_config) == []  # an estimate is not an order
    text = order_cli(sim_tws, "place", "AAPL", "BUY", "100", "--mkt", "--what-if")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("WHAT-IF (nothing sent; --yes")
    assert "initial margin" in text.stdout and "commission     " in text.stdout
    assert "1.7976931348623157e+308" not in text.stdout


def test_what_if_then_yes_sends(sim_tws: Any, order_cli: Any, orders_config: Path) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "10", "--lmt", "50",
                       "--take-profit", "60", "--stop-loss", "40", "--what-if", "--yes",
                       "--json")
    rows = placed(result)
    shown = json.loads(result.stdout)
    assert shown["sent"] is True and shown["what_if"]["initMarginChange"] > 0
    probe, *bracket = sent_orders(sim_tws)
    assert what_ifs(sim_tws) == [probe]  # the parent's estimate, asked on its own
    assert probe.order["transmit"] == "1" and probe.order["parentId"] in ("", "0")
    assert probe.order_id not in {r["orderId"] for r in rows}
    assert [d.order_id for d in bracket] == [r["orderId"] for r in rows]
    assert [r.order_id for r in sim_tws.orders] == [r["orderId"] for r in rows]
    records = audit_file(orders_config)
    assert [r["event"] for r in records] == ["audit_order_sent"] * 3
    assert records[0]["what_if"] == shown["what_if"]


@pytest.mark.parametrize(("answer", "sent"), [(b"y\n", True), (b"n\n", False)])
def test_what_if_on_a_terminal_asks_before_sending(sim_tws: Any, orders_config: Path,
                                                   answer: bytes, sent: bool) -> None:
    code, screen = run_in_pty(
        ["--set", f"ib.port={sim_tws.port}", "--log-level", "warning", "order", "place",
         "AAPL", "BUY", "7", "--lmt", "10", "--what-if"], orders_config.parent.parent, answer)
    assert "paper account DU123456" in screen and "Send this order?" in screen
    prompt = screen[:screen.index("Send this order?")]
    assert "BUY 7 AAPL LMT @ 10" in prompt and "initial margin" in prompt
    assert "commission" in prompt
    assert (code == 0) is sent, screen
    assert len(sent_orders(sim_tws)) == 1 + sent and len(what_ifs(sim_tws)) == 1
    assert len(sim_tws.orders) == sent
    assert ("SENT after what-if" in screen) is sent
    assert [r["event"] for r in audit_file(orders_config)] == (
        ["audit_order_sent"] if sent else ["audit_order_refused"])


def test_what_if_dry_run_never_sends_nor_asks(sim_tws: Any, orders_config: Path) -> None:
    code, screen = run_in_pty(
        ["--set", f"ib.port={sim_tws.port}", "--log-level", "warning", "order", "place",
         "AAPL", "BUY", "7", "--lmt", "10", "--what-if", "--dry-run"],
        orders_config.parent.parent, b"y\n")
    assert code == 0, screen
    assert "Send this order?" not in screen and "WHAT-IF (nothing sent)" in screen
    assert "initial margin" in screen and "ib_async Order" in screen
    assert len(sent_orders(sim_tws)) == len(what_ifs(sim_tws)) == 1 and sim_tws.orders == []


def test_what_if_refused_by_ib_sends_nothing(sim_tws: Any, order_cli: Any,
                                             orders_config: Path) -> None:
    """IB answers a read-only session's what-if with error 321, which ib_async takes for
    a warning (its whatIfOrderAsync would wait forever): refused in seconds, audited."""
    from tests.plugins.orders.readonly import ReadOnlyProxy

    proxy = ReadOnlyProxy(sim_tws.port).start()
    try:
        result = order_cli(proxy, "place", "AAPL", "BUY", "1", "--lmt", "1", "--what-if",
                           "--yes")
    finally:
        proxy.stop()
    assert result.exit_code == 1, result.output
    assert "error 321" in result.stderr and len(proxy.refused) == 1
    assert sim_tws.requests_named("placeOrder") == []
    [record] = audit_file(orders_config)
    assert (record["event"], record["stage"], record["code"]) == (
        "audit_order_refused", "what-if", 321)


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


@pytest.mark.parametrize(("args", "tif", "gtd"), [
    (["--tif=GTC"], "GTC", None),
    (["--tif", "ioc"], "IOC", None),
    (["--tif=GTD", "20301201 16:00:00 America/New_York"], "GTD",
     "20301201 16:00:00 America/New_York"),
    (["--tif", "GTD 2030-12-01 16:00 Europe/London"], "GTD", "20301201 16:00:00 Europe/London"),
    (["--tif", "GTD", "2030-12-01 16:00:30 Asia/Tokyo"], "GTD", "20301201 16:00:30 Asia/Tokyo"),
])
def test_tif_forms(sim_tws: Any, order_cli: Any, args: list[str], tif: str, gtd: str | None
                   ) -> None:
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1", *args, "--dry-run",
                       "--json")
    assert result.exit_code == 0, result.output
    [order] = json.loads(result.stdout)["orders"]
    assert (order["tif"], order.get("goodTillDate")) == (tif, gtd)


def test_gtc_is_sent_as_gtc(sim_tws: Any, order_cli: Any) -> None:
    [row] = placed(order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1", "--tif=GTC",
                             "--json"))
    [rec] = [r for r in sim_tws.orders if r.order_id == row["orderId"]]
    assert rec.order["tif"] == "GTC"
    [trade] = [t for t in read_back(sim_tws) if t.order.permId == rec.perm_id]
    assert trade.order.tif == "GTC"


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


def test_tws_down_is_one_line_not_a_traceback(order_cli: Any) -> None:
    import socket
    from types import SimpleNamespace

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = order_cli(SimpleNamespace(port=port), "place", "AAPL", "BUY", "1", "--lmt", "1")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: cannot reach TWS") and "Traceback" not in result.stderr
