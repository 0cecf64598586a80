"""The supervisor's start gate: only a platform-wide problem holds a tws start."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import write
from traderctl.config import Config
from traderctl.ibstatus.gate import platform_hold_reason
from traderctl.plugin.manager import build_plugin_manager
from traderctl.plugin.sections import load_with_plugins

from .helpers import fixture_html

pytestmark = pytest.mark.timeout(20)


def load(tmp_path: Path, url: str, exchanges: list[str] = (), **ib_status: object) -> Config:
    """The effective config, loaded by the real loader from a file."""
    settings = {"url": url, "timeout": 0.5, "retries": 0, "exchanges": list(exchanges),
                **ib_status}
    path = write(tmp_path / "trader.yaml", f"""
        supervisor:
          data_dir: {tmp_path}/data
        checks:
          ib_status: {json.dumps(settings)}
    """)
    env: dict[str, str] = {}
    return load_with_plugins(build_plugin_manager(env=env, entry_points=False), str(path),
                             env, [])


def test_platform_wide_problem_holds_with_a_reason(server, tmp_path) -> None:
    config = load(tmp_path, server.serve("/s", fixture_html("platform_outage.html")))
    reason = platform_hold_reason(config, env={})
    assert reason is not None
    assert reason.startswith("IB reports a platform-wide problem: Login problems [system:")
    assert "Client Portal statements" not in reason  # information, not a problem


def test_exchange_problem_never_holds_even_on_your_exchange(server, tmp_path) -> None:
    config = load(tmp_path, server.serve("/s", fixture_html("exchange_outage.html")), ["ASX"])
    assert platform_hold_reason(config, env={}) is None


@pytest.mark.parametrize("page", ["current_normal.html", "maintenance.html",
                                  "unattributed.html", "garbled.html", "empty.html"])
def test_no_platform_problem_no_hold(server, tmp_path, page) -> None:
    config = load(tmp_path, server.serve("/s", fixture_html(page)), ["NYSE"])
    assert platform_hold_reason(config, env={}) is None


def test_http_500_is_uncertain_and_never_holds(server, tmp_path) -> None:
    config = load(tmp_path, server.serve("/s", "boom", status=500))
    assert platform_hold_reason(config, env={}) is None


def test_timeout_is_uncertain_and_never_holds(server, tmp_path) -> None:
    config = load(tmp_path, server.serve("/s", fixture_html("platform_outage.html"), delay=2))
    started = time.monotonic()
    assert platform_hold_reason(config, env={}) is None
    assert time.monotonic() - started < 1.8


def test_nothing_listening_never_holds(tmp_path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = load(tmp_path, f"http://127.0.0.1:{port}/s")
    assert platform_hold_reason(config, env={}) is None


def test_switched_off_by_env_config_or_gate_never_fetches(server, tmp_path) -> None:
    url = server.serve("/s", fixture_html("platform_outage.html"))
    assert platform_hold_reason(load(tmp_path, url), env={"TRADER_CHECK": "False"}) is None
    assert platform_hold_reason(load(tmp_path, url, enabled=False), env={}) is None
    assert platform_hold_reason(load(tmp_path, url, gate=False), env={}) is None
    assert server.hits["/s"] == 0


def test_shared_cache_and_usable_from_a_thread(server, tmp_path) -> None:
    """How the tws driver calls it: asyncio.to_thread, many times; IB is asked once per TTL."""
    config = load(tmp_path, server.serve("/s", fixture_html("platform_outage.html")))

    async def ask_often() -> list[str | None]:
        return list(await asyncio.gather(*(asyncio.to_thread(platform_hold_reason, config)
                                           for _ in range(5))))

    reasons = asyncio.run(ask_often())
    assert all(r and "Login problems" in r for r in reasons)
    assert server.hits["/s"] == 1
    assert (tmp_path / "data" / "cache").is_dir()
