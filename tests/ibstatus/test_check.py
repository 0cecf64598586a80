"""The check end to end: on/off switch, settings, fetch -> parse -> verdict over real HTTP."""

from __future__ import annotations

import subprocess
import sys

import pytest

from traderctl.ibstatus.check import IbStatusSettings, check_ib_status, disabled_reason
from traderctl.ibstatus.model import VerdictKind

from .helpers import SUPERVISOR, fixture_html

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize("value", ["False", "false", "FALSE", "0", "no", "off", " False "])
def test_trader_check_false_disables(value):
    assert disabled_reason(True, {"TRADER_CHECK": value}) is not None


@pytest.mark.parametrize("env", [{}, {"TRADER_CHECK": ""}, {"TRADER_CHECK": "True"},
                                 {"TRADER_CHECK": "1"}])
def test_check_runs_unless_switched_off(env):
    assert disabled_reason(True, env) is None
    assert disabled_reason(False, env) == "checks.ib_status.enabled is false"


def test_disabled_by_env_never_touches_the_network(server, tmp_path):
    url = server.serve("/status", fixture_html("platform_outage.html"))
    v = check_ib_status({"url": url}, cache_dir=tmp_path, env={"TRADER_CHECK": "False"})
    assert v.verdict is VerdictKind.DISABLED and v.check_status == "disabled"
    assert "TRADER_CHECK=False" in v.reason
    assert server.hits["/status"] == 0


def test_disabled_by_config(server, tmp_path):
    url = server.serve("/status", fixture_html("platform_outage.html"))
    v = check_ib_status({"url": url, "enabled": False}, cache_dir=tmp_path, env={})
    assert v.verdict is VerdictKind.DISABLED
    assert server.hits["/status"] == 0


def test_settings_from_mapping_coerces_types():
    s = IbStatusSettings.from_mapping({"ttl": 60, "timeout": "2.5", "retries": "3",
                                       "exchanges": ["NYSE", "Xetra"],
                                       "aliases": {"JSE Ltd": "JSE"}, "unrelated": 1,
                                       "url": None})
    assert s.ttl == 60.0 and s.timeout == 2.5 and s.retries == 3
    assert s.exchanges == ("NYSE", "Xetra") and s.aliases == {"JSE Ltd": "JSE"}
    assert s.url.startswith("https://www.interactivebrokers.com/")
    assert IbStatusSettings.from_mapping(None) == IbStatusSettings()
    assert IbStatusSettings.from_mapping({"enabled": "false"}).enabled is False
    assert IbStatusSettings.from_mapping({"enabled": "yes"}).enabled is True


def test_end_to_end_problem_then_served_from_cache(server, tmp_path):
    url = server.serve("/status", fixture_html("exchange_outage.html"))
    settings = {"url": url, "timeout": 2.0, "retries": 0, "exchanges": ["NYSE"]}
    # The final list from the lead (config + plugins) replaces settings.exchanges.
    v = check_ib_status(settings, cache_dir=tmp_path, exchanges=["NYSE", "ASX"], env={})
    assert v.verdict is VerdictKind.PROBLEM
    assert v.user_exchanges == ("NYSE", "ASX")
    assert v.fetch is not None and not v.fetch.from_cache
    again = check_ib_status(settings, cache_dir=tmp_path, env={})
    assert again.verdict is VerdictKind.DEGRADED  # ASX is not in settings.exchanges
    assert again.fetch.from_cache and server.hits["/status"] == 1
    assert again.to_json()["fetch"]["from_cache"] is True


def test_end_to_end_config_aliases_are_used(server, tmp_path):
    url = server.serve("/status", fixture_html("unattributed.html"))
    v = check_ib_status({"url": url, "retries": 0, "exchanges": ["JSE"],
                         "aliases": {"Johannesburg": "JSE"}}, cache_dir=tmp_path, env={})
    assert v.verdict is VerdictKind.PROBLEM


def test_http_500_gives_unknown_never_ok(server, tmp_path):
    url = server.serve("/status", "boom", status=500)
    v = check_ib_status({"url": url, "timeout": 1.0, "retries": 1, "exchanges": ["xetra"]},
                        cache_dir=tmp_path, env={})
    assert v.verdict is VerdictKind.UNKNOWN and v.check_status == "unknown"
    assert v.user_exchanges == ("IBIS",)
    assert "HTTP 500" in v.reason
    assert server.hits["/status"] == 2


def test_timeout_gives_unknown(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"), delay=1.5)
    v = check_ib_status({"url": url, "timeout": 0.2, "retries": 0}, cache_dir=tmp_path, env={})
    assert v.verdict is VerdictKind.UNKNOWN
    assert "timed out" in v.reason.lower()


def test_garbled_page_gives_unknown(server, tmp_path):
    url = server.serve("/status", fixture_html("garbled.html"))
    v = check_ib_status({"url": url, "retries": 0}, cache_dir=tmp_path, env={})
    assert v.verdict is VerdictKind.UNKNOWN
    assert v.fetch is not None and v.fetch.ok


def test_importing_the_package_does_not_import_requests_or_bs4():
    code = ("import sys, traderctl.ibstatus; "
            "print(sorted(m for m in ('requests', 'bs4', 'urllib3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SUPERVISOR), "PATH": "/usr/bin:/bin"},
                         timeout=15, check=True)
    assert out.stdout.strip() == "[]"
