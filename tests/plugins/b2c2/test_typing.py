"""The endpoint table's typed surface is what mypy sees (no mypy plugin involved)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SNIPPET = """
from decimal import Decimal
from traderctl_b2c2 import models as m
from traderctl_b2c2.endpoints import Api
from traderctl_b2c2.rest import RestClient

client = RestClient("http://127.0.0.1:1", "k")
reveal_type(client.balance())
reveal_type(client.request_for_quote(m.RFQRequest(instrument="BTCUSD.SPOT", side="buy",
                                                  quantity=Decimal(1))))
reveal_type(next(client.paginate(Api.trade_history)))
reveal_type(client.rfq("BTCUSD.SPOT", "buy", "1").execute())
client.order(m.RFQRequest(instrument="BTCUSD.SPOT", side="buy", quantity=Decimal(1)))
"""


@pytest.mark.timeout(240)
def test_mypy_sees_the_typed_calls(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "uses_client.py"
    source.write_text(textwrap.dedent(SNIPPET))
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file",
                          str(REPO / "pyproject.toml"), "--cache-dir",
                          str(REPO / ".mypy_cache"), str(source)],
                         capture_output=True, text=True, cwd=REPO, timeout=230, check=False)
    out = run.stdout
    assert 'Revealed type is "traderctl_b2c2.models.Balances"' in out, out
    assert 'Revealed type is "traderctl_b2c2.models.Quote"' in out, out
    assert 'Revealed type is "traderctl_b2c2.models.Trade"' in out, out
    assert 'Revealed type is "traderctl_b2c2.models.Order"' in out, out
    assert 'incompatible type "RFQRequest"; expected "OrderRequest | None"' in out, out
    assert run.returncode == 1
