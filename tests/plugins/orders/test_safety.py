"""Safety before sending: limits, the account allow-list, a live account's confirmation,
and the audit events that reach `traderctl events`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.orders.conftest import audit_file, placed, run_in_pty, wait_for

LIVE = "U7654321"


@pytest.fixture
def live_sim(sim_tws_factory: Any, tmp_path: Path) -> Any:
    scenario = tmp_path / "live.json"
    scenario.write_text(json.dumps({"accounts": [LIVE]}))
    return sim_tws_factory(scenario_path=str(scenario))


def add_orders_section(config: Path, section: str) -> None:
    config.write_text(config.read_text() + section)


def test_limits_refuse_before_sending(sim_tws: Any, order_cli: Any, orders_config: Path
                                      ) -> None:
    add_orders_section(orders_config, "orders:\n  max_quantity: 100\n  symbols:\n"
                                      "    AAPL: {max_notional: 1000}\n")
    too_many = order_cli(sim_tws, "place", "MSFT", "BUY", "101", "--lmt", "1")
    assert too_many.exit_code == 1
    assert "quantity 101 exceeds orders.max_quantity 100" in too_many.stderr
    too_big = order_cli(sim_tws, "place", "AAPL", "BUY", "20", "--lmt", "100")
    assert too_big.exit_code == 1
    assert "notional 2000 exceeds orders.symbols.AAPL.max_notional 1000" in too_big.stderr
    assert sim_tws.requests_named("placeOrder") == []
    placed(order_cli(sim_tws, "place", "AAPL", "BUY", "5", "--lmt", "100", "--json"))


def test_account_allow_list(sim_tws: Any, order_cli: Any, orders_config: Path) -> None:
    add_orders_section(orders_config, "orders:\n  accounts: [DU999999]\n")
    result = order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1")
    assert result.exit_code == 1 and "not in orders.accounts" in result.stderr
    other = order_cli(sim_tws, "place", "AAPL", "BUY", "1", "--lmt", "1", "--account", "DU1")
    assert other.exit_code == 1 and "not managed" in other.stderr
    assert sim_tws.requests_named("placeOrder") == []


def test_live_account_without_terminal_needs_yes(live_sim: Any, order_cli: Any,
                                                 orders_config: Path) -> None:
    refused = order_cli(live_sim, "place", "AAPL", "BUY", "1", "--lmt", "1")
    assert refused.exit_code == 1 and "live account" in refused.stderr
    assert live_sim.requests_named("placeOrder") == []
    [record] = audit_file(orders_config)
    assert (record["event"], record["stage"], record["account"]) == (
        "audit_order_refused", "confirmation", LIVE)
    [row] = placed(order_cli(live_sim, "place", "AAPL", "BUY", "1", "--lmt", "1", "--yes",
                             "--json"))
    assert row["status"] == "Submitted"


@pytest.mark.parametrize(("answer", "sent"), [(b"y\n", True), (b"n\n", False),
                                             (b"\x04", False)])
def test_live_account_interactive_confirmation(live_sim: Any, orders_config: Path,
                                               answer: bytes, sent: bool) -> None:
    code, screen = run_in_pty(
        ["--set", f"ib.port={live_sim.port}", "--log-level", "warning", "order", "place",
         "AAPL", "BUY", "7", "--lmt", "10", "--when", "margin >= 10%"],
        orders_config.parent.parent, answer)
    assert f"LIVE account {LIVE}" in screen
    assert "BUY 7 AAPL LMT @ 10" in screen and "notional:   70.00" in screen
    assert "margin >= 10%" in screen
    assert (code == 0) is sent, screen
    assert bool(live_sim.requests_named("placeOrder")) is sent
    [record] = audit_file(orders_config)
    if sent:
        assert record["event"] == "audit_order_sent" and record["account"] == LIVE
    else:
        assert record["event"] == "audit_order_refused" and record["stage"] == "confirmation"
        assert record["reason"] == ("not confirmed; nothing sent" if answer == b"n\n"
                                    else "not confirmed (aborted); nothing sent")
        assert record["order"] == "BUY 7 AAPL LMT @ 10 DAY" and record["notional"] == 70


def test_audit_events_reach_the_supervisor(sim_tws: Any, cli: Any, tmp_path: Path,
                                           clean_env: dict[str, str]) -> None:
    from tests.daemon.conftest import Daemon

    sock = f"{tmp_path}/run/traderctl.sock"
    config = tmp_path / "configs" / "trader.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f"supervisor:\n  socket: {sock}\n  data_dir: {tmp_path}/data\n"
                      "services: {}\n")
    daemon = Daemon(tmp_path, config, sock, clean_env).start()
    try:
        ib = ("--set", f"ib.port={sim_tws.port}", "--log-level", "warning", "order")
        result = cli(*ib, "place", "AAPL", "BUY", "2", "--lmt", "5", "--json",
                     entry_points=True)
        [row] = placed(result)
        assert cli(*ib, "cancel", str(row["orderId"]), entry_points=True).exit_code == 0

        def audit() -> list[dict[str, Any]]:
            shown = cli("events", "--json", entry_points=True)
            items = [json.loads(line) for line in shown.stdout.splitlines()]
            return [e for e in items if e["event"].startswith("audit_order")]

        sent, cancelled = wait_for(lambda: (lambda a: a if len(a) == 2 else None)(audit()))
        assert sent["event"] == "audit_order_sent" and sent["orderId"] == row["orderId"]
        assert sent["caller"]["uid"] == os.getuid() and sent["account"] == "DU123456"
        assert cancelled["event"] == "audit_order_cancelled"
        lines = (tmp_path / "data" / "orders" / "audit.jsonl").read_text().splitlines()
        assert [json.loads(line)["event"] for line in lines] == [
            "audit_order_sent", "audit_order_cancelled"]
    finally:
        daemon.stop()


def test_read_only_session_refused_with_ibs_reason(sim_tws: Any, order_cli: Any) -> None:
    from tests.plugins.orders.readonly import ReadOnlyProxy

    proxy = ReadOnlyProxy(sim_tws.port).start()
    try:
        result = order_cli(proxy, "place", "AAPL", "BUY", "1", "--lmt", "1")
    finally:
        proxy.stop()
    assert result.exit_code == 1, result.output
    assert "error 321" in result.stderr and "Read-Only mode" in result.stderr
    assert "read-only" in result.stderr and len(proxy.refused) == 1
    assert sim_tws.requests_named("placeOrder") == []


def test_refused_orders_reach_the_audit_trail(sim_tws: Any, cli: Any, tmp_path: Path,
                                             clean_env: dict[str, str]) -> None:
    """Refused by the limits, the account checks, IB (read-only) and a modification over
    the limits: each is an audit_order_refused record in audit.jsonl and in `events`, with
    the caller, as a sent order is."""
    from tests.daemon.conftest import Daemon
    from tests.plugins.orders.readonly import ReadOnlyProxy

    sock = f"{tmp_path}/run/traderctl.sock"
    config = tmp_path / "configs" / "trader.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f"supervisor:\n  socket: {sock}\n  data_dir: {tmp_path}/data\n"
                      "services: {}\norders:\n  max_quantity: 100\n"
                      "  symbols:\n    AAPL: {max_notional: 1000}\n")
    daemon = Daemon(tmp_path, config, sock, clean_env).start()
    proxy = ReadOnlyProxy(sim_tws.port).start()
    try:
        def order(port: int, *args: str) -> Any:
            return cli("--set", f"ib.port={port}", "--log-level", "warning", "order", *args,
                       entry_points=True)

        assert order(sim_tws.port, "place", "MSFT", "BUY", "101", "--lmt", "1").exit_code == 1
        assert order(sim_tws.port, "place", "AAPL", "SELL", "20", "--lmt", "100",
                     "--when", "margin < 30%").exit_code == 1
        assert order(sim_tws.port, "place", "AAPL", "BUY", "1", "--lmt", "1",
                     "--account", "DU1").exit_code == 1
        assert order(proxy.port, "place", "AAPL", "BUY", "2", "--lmt", "3").exit_code == 1
        [row] = placed(order(sim_tws.port, "place", "AAPL", "BUY", "5", "--lmt", "100",
                             "--json"))
        too_many = order(sim_tws.port, "modify", str(row["orderId"]), "--qty", "50")
        assert too_many.exit_code == 1 and "max_notional" in too_many.stderr
    finally:
        proxy.stop()

    try:
        def shown() -> list[dict[str, Any]]:
            out = cli("events", "--json", entry_points=True).stdout.splitlines()
            items = [json.loads(line) for line in out]
            found = [e for e in items if e["event"].startswith("audit_order")]
            return found if len(found) == 6 else []

        events = wait_for(shown)
    finally:
        daemon.stop()
    records = audit_file(config)
    assert [r["event"] for r in records] == [e["event"] for e in events] == [
        "audit_order_refused"] * 4 + ["audit_order_sent", "audit_order_refused"]
    qty, notional, account, ib, _, modify = records
    assert all(r["caller"]["uid"] == os.getuid() for r in records)
    assert (qty["stage"], qty["symbol"], qty["quantity"]) == ("limits", "MSFT", 101)
    assert qty["reason"] == "quantity 101 exceeds orders.max_quantity 100; nothing sent"
    assert (notional["stage"], notional["notional"], notional["action"]) == (
        "limits", 2000, "SELL")
    assert notional["conditions"] == "margin <= 30%" and notional["account"] == "DU123456"
    assert notional["order"] == "SELL 20 AAPL LMT @ 100 DAY"
    assert (account["stage"], account["account"]) == ("account", "DU1")
    assert "not managed" in account["reason"]
    assert (ib["stage"], ib["code"], ib["quantity"]) == ("tws", 321, 2)
    assert "Read-Only" in ib["reason"] and ib["orderId"] > 0
    assert (modify["stage"], modify["action"], modify["orderId"]) == (
        "limits", "modify", row["orderId"])
    assert modify["changes"] == {"quantity": {"from": 5.0, "to": 50.0}}
    assert "notional 5000" in modify["reason"]
    assert [e["stage"] for e in events if e["event"] == "audit_order_refused"] == [
        "limits", "limits", "account", "tws", "limits"]


def test_modify_on_a_live_account_needs_yes(live_sim: Any, order_cli: Any,
                                            orders_config: Path) -> None:
    [row] = placed(order_cli(live_sim, "place", "AAPL", "BUY", "1", "--lmt", "1", "--yes",
                             "--json"))
    oid = str(row["orderId"])
    refused = order_cli(live_sim, "modify", oid, "--qty", "3")
    assert refused.exit_code == 1 and "live account" in refused.stderr
    assert len(live_sim.requests_named("placeOrder")) == 1
    done = order_cli(live_sim, "modify", oid, "--qty", "3", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert len(live_sim.requests_named("placeOrder")) == 2
    assert [(r["event"], r.get("stage")) for r in audit_file(orders_config)] == [
        ("audit_order_sent", None), ("audit_order_refused", "confirmation"),
        ("audit_order_modified", None)]


def test_modify_lmt_of_an_order_without_a_limit_price(sim_tws: Any, order_cli: Any,
                                                      orders_config: Path) -> None:
    """A limit price on a stop order would change its type: refused, nothing sent."""
    [stop] = placed(order_cli(sim_tws, "place", "AAPL", "SELL", "1", "--stp", "90", "--json"))
    result = order_cli(sim_tws, "modify", str(stop["orderId"]), "--lmt", "89")
    assert result.exit_code == 1 and "is STP: it has no limit price" in result.stderr
    assert len(sim_tws.requests_named("placeOrder")) == 1
    assert audit_file(orders_config)[-1]["stage"] == "order"


def test_a_modification_ib_refuses_is_audited(sim_tws: Any, order_cli: Any,
                                              orders_config: Path) -> None:
    from tests.plugins.orders.readonly import ReadOnlyProxy

    [row] = placed(order_cli(sim_tws, "place", "AAPL", "BUY", "2", "--lmt", "5", "--json"))
    proxy = ReadOnlyProxy(sim_tws.port).start()
    try:
        result = order_cli(proxy, "modify", str(row["orderId"]), "--lmt", "6")
    finally:
        proxy.stop()
    assert result.exit_code == 1 and "error 321" in result.stderr, result.output
    assert proxy.refused == [str(row["orderId"])]
    record = audit_file(orders_config)[-1]
    assert (record["event"], record["action"], record["stage"]) == (
        "audit_order_refused", "modify", "tws")
    assert record["changes"] == {"lmtPrice": {"from": 5.0, "to": 6.0}}
