"""``traderctl b2c2 ...`` end to end: the real CLI, the plugin from its entry point, the
fake venue over TCP."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from click.testing import Result

from tests.plugins.b2c2.cli.conftest import SECRET
from traderctl_b2c2.sim import FakeVenue

Run = Callable[..., Result]


def balance(b2c2: Run, currency: str) -> Decimal:
    return Decimal(json.loads(b2c2("b2c2", "balance", "--json").stdout)[currency])


def test_help_lists_the_commands(b2c2: Run) -> None:
    result = b2c2("b2c2", "--help")
    assert result.exit_code == 0
    for name in ("instruments", "balance", "trades", "ledger", "quote", "trade", "stream",
                 "ui", "sim"):
        assert name in result.output


def test_instruments_and_balance(b2c2: Run) -> None:
    result = b2c2("b2c2", "instruments", "--json")
    assert result.exit_code == 0, result.output
    assert {"name": "BTCUSD.SPOT", "underlier": "BTCUSD", "type": "SPOT"} in json.loads(
        result.stdout)
    table = b2c2("b2c2", "balance").stdout
    assert table.splitlines()[0].split() == ["CURRENCY", "BALANCE"]
    assert balance(b2c2, "BTC") == Decimal("10")


def test_quote_shows_price_id_and_time_left(b2c2: Run) -> None:
    result = b2c2("b2c2", "quote", "BTCUSD.SPOT", "buy", "1", "--json")
    assert result.exit_code == 0, result.output
    quote = json.loads(result.stdout)
    assert quote["rfq_id"] and Decimal(quote["price"]) > 0
    assert quote["valid_until"].endswith("Z") and 0 < quote["time_left_seconds"] <= 10
    text = b2c2("b2c2", "quote", "ETHUSD.SPOT", "sell", "2").stdout
    assert "SELL 2 ETHUSD.SPOT at" in text and "s left" in text


def test_trade_with_yes_moves_balances_and_shows_in_history(b2c2: Run) -> None:
    result = b2c2("b2c2", "trade", "BTCUSD.SPOT", "buy", "0.5", "--yes", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["order"]["executed_price"] == answer["quote"]["price"]
    assert balance(b2c2, "BTC") == Decimal("10.5")
    trades = json.loads(b2c2("b2c2", "trades", "--json").stdout)
    assert [t["trade_id"] for t in trades] == [answer["order"]["trades"][0]["trade_id"]]
    ledger = json.loads(b2c2("b2c2", "ledger", "--json", "--currency", "BTC").stdout)
    assert [row["amount"] for row in ledger] == ["0.5"]
    assert "BTCUSD.SPOT" in b2c2("b2c2", "trades").stdout


def test_trade_asks_and_a_no_trades_nothing(b2c2: Run) -> None:
    refused = b2c2("b2c2", "trade", "BTCUSD.SPOT", "sell", "1", input="n\n")
    assert refused.exit_code == 1 and "execute? [y/N]" in refused.stderr
    assert "s left" in refused.stderr and "not traded" in refused.stderr
    assert balance(b2c2, "BTC") == Decimal("10")
    accepted = b2c2("b2c2", "trade", "BTCUSD.SPOT", "sell", "1", input="y\n")
    assert accepted.exit_code == 0 and "filled: sell 1 BTCUSD.SPOT" in accepted.stdout
    assert balance(b2c2, "BTC") == Decimal("9")


def test_trade_limit_and_configured_maximum(b2c2: Run) -> None:
    result = b2c2("b2c2", "trade", "BTCUSD.SPOT", "buy", "1", "--limit", "100", "--yes")
    assert result.exit_code == 1 and "worse than --limit 100" in result.stderr
    result = b2c2("b2c2", "trade", "BTCUSD.SPOT", "buy", "6", "--yes")
    assert result.exit_code == 1 and "above b2c2.max_quantity 5" in result.stderr


def test_venue_errors_are_one_line_with_code_and_request_id(b2c2: Run) -> None:
    result = b2c2("b2c2", "trade", "ETHUSD.SPOT", "sell", "4", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("b2c2: Not enough balance (code 1011, HTTP 400, request ")
    result = b2c2("b2c2", "quote", "BTCUSD.SPOT", "buy", "0.12345")
    assert result.exit_code == 1 and "Too many decimals (4 max)" in result.stderr
    assert "refused locally" in result.stderr


def test_stream_json_lines_stop_after_count(b2c2: Run) -> None:
    result = b2c2("b2c2", "stream", "BTCUSD.SPOT", "ETHUSD.SPOT", "--levels", "1,3",
                  "--count", "6")
    assert result.exit_code == 0, result.output
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(frames) == 6
    assert {f["instrument"] for f in frames} <= {"BTCUSD.SPOT", "ETHUSD.SPOT"}
    assert [lvl["quantity"] for lvl in frames[0]["levels"]["buy"]] == ["1", "3"]
    assert b2c2("b2c2", "stream", "BTCUSD.SPOT", "--levels", "x").exit_code == 2


def test_stream_refused_instrument(b2c2: Run) -> None:
    result = b2c2("b2c2", "stream", "NOPE.SPOT", "--count", "1")
    assert result.exit_code == 1 and "code 3003" in result.stderr


def test_key_from_environment_and_never_shown(b2c2: Run, secret_venue: FakeVenue,
                                              tmp_path: Path) -> None:
    config = tmp_path / "env.yaml"
    config.write_text(f"b2c2:\n  env: custom\n  api_url: {secret_venue.api_url}\n"
                      f"  ws_url: {secret_venue.ws_url}\n")
    missing = b2c2("b2c2", "balance", config_file=config)
    assert missing.exit_code == 2 and "B2C2_APIKEY" in missing.stderr
    result = b2c2("b2c2", "balance", "--json", config_file=config,
                  env={"B2C2_APIKEY": SECRET})
    assert result.exit_code == 0 and json.loads(result.stdout)["USD"]
    shown = b2c2("config", "show")
    assert SECRET not in shown.output and "api_key" in shown.output
    wrong = b2c2("b2c2", "balance", config_file=config, env={"B2C2_APIKEY": "wrong-4242"})
    assert wrong.exit_code == 1 and "HTTP 401" in wrong.stderr
    assert "wrong-4242" not in wrong.output


def test_custom_env_needs_both_urls(b2c2: Run, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("b2c2:\n  env: custom\n  api_url: http://127.0.0.1:1\n  timeout: 0\n")
    result = b2c2("b2c2", "balance", config_file=config)
    assert result.exit_code == 2
    assert "b2c2.ws_url: required when b2c2.env is custom" in result.stderr
    assert "b2c2.timeout" in result.stderr


def test_checks_pass_against_the_venue_and_fail_on_silence(b2c2: Run,
                                                          secret_venue: FakeVenue) -> None:
    result = b2c2("check", "b2c2_api", "b2c2_stream", "--json")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json.loads(result.stdout)] == ["ok", "ok"]
    secret_venue.faults.stop_pricing = True
    result = b2c2("--set", "b2c2.stale_after=0.3", "--set", "b2c2.timeout=1",
                  "check", "b2c2_stream", "--json")
    assert result.exit_code == 1
    assert "no BTCUSD.SPOT price" in json.loads(result.stdout)[0]["summary"]
