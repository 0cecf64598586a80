"""The plugin loads, its group is lazy, its help shows the condition grammar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.test_imports import HEAVY, imported_modules


def test_place_help_shows_grammar_without_heavy_imports(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "trader.yaml").write_text(
        f"supervisor:\n  socket: {tmp_path}/none.sock\n  data_dir: {tmp_path}/data\n")
    loaded = imported_modules(["order", "place", "--help"], tmp_path)
    assert "traderctl_orders.conditions" in loaded
    assert not sorted(m for m in loaded if m.split(".")[0] in HEAVY)


def test_help_lists_grammar(cli: Any, orders_config: Path) -> None:
    result = cli("order", "place", "--help", entry_points=True)
    assert result.exit_code == 0
    assert "time OP YYYY-MM-DD HH:MM[:SS] ZONE" in result.output
    assert "--tif DAY|GTC|IOC|GTD DATE" in result.output


def test_config_limits_validated(cli: Any, orders_config: Path) -> None:
    orders_config.write_text(orders_config.read_text() + "orders:\n  max_quantity: -1\n")
    result = cli("config", "check", entry_points=True)
    assert result.exit_code == 2 and "orders.max_quantity" in result.stderr


def test_options_that_make_no_order(cli: Any, orders_config: Path) -> None:
    for args, message in [
        (["--mkt", "--lmt", "1"], "--lmt cannot be combined with --mkt"),
        ([], "give a price type"),
        (["--lmt", "-1"], "must be a positive number"),
        (["--lmt", "1", "--any"], "need at least one --when"),
        (["--lmt", "1", "--tif", "GTD"], "--tif"),
        (["--lmt", "1", "--tif=FOK"], "--tif: DAY, GTC, IOC, or GTD"),
        (["--lmt", "1", "--tif="], "--tif: DAY, GTC, IOC, or GTD"),
        (["--lmt", "1", "--tif"], "--tif needs a value"),
        (["--lmt", "1", "--tif", "GTD", "20301201 16:00:00"], "a date, a time and a zone"),
        (["--lmt", "1", "--tif", "GTD", "20301201 16:00:00 Mars/Olympus"], "unknown time zone"),
        (["--lmt", "1", "--tif", "GTD", "2030-13-01 16:00 UTC"], "not a date and time"),
        (["--lmt", "1", "--tif", "GTD", "20200101 16:00:00 UTC"], "is in the past"),
        (["--lmt", "1", "--tif", "DAY", "20301201 16:00:00 UTC"], "unexpected extra argument"),
    ]:
        result = cli("order", "place", "AAPL", "BUY", "1", *args, entry_points=True)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
