"""Fetching through a real local HTTP server: retries, timeouts, User-Agent, shared disk cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

import traderctl
from traderctl.ibstatus.cache import cache_path
from traderctl.ibstatus.fetch import fetch_status_page

from .helpers import SUPERVISOR, fixture_html

pytestmark = pytest.mark.timeout(20)


def test_success_sends_identifying_user_agent(server):
    url = server.serve("/status", fixture_html("current_normal.html"))
    result = fetch_status_page(url, None, timeout=2, retries=0)
    assert result.ok and result.http_status == 200 and not result.from_cache
    assert "No problems" in result.body
    assert result.fetched_at.utcoffset() == timedelta(0)
    assert server.user_agents == [f"traderctl/{traderctl.__version__} (+ops supervisor)"]


def test_http_500_is_retried_then_reported_as_failure(server, tmp_path):
    url = server.serve("/status", "boom", status=500)
    result = fetch_status_page(url, tmp_path, timeout=2, retries=2, backoff_factor=0.01)
    assert server.hits["/status"] == 3
    assert not result.ok and result.http_status == 500 and result.body is None
    assert result.error == "HTTP 500"


def test_http_404_is_not_retried(server):
    url = server.url("/missing")
    result = fetch_status_page(url, None, timeout=2, retries=2, backoff_factor=0.01)
    assert not result.ok and result.http_status == 404
    assert server.hits["/missing"] == 1


def test_timeout_is_retried_then_reported_quickly(server):
    url = server.serve("/slow", fixture_html("current_normal.html"), delay=1.5)
    started = time.monotonic()
    result = fetch_status_page(url, None, timeout=0.2, retries=1, backoff_factor=0.01)
    elapsed = time.monotonic() - started
    assert not result.ok and result.http_status is None
    assert "timed out" in result.error.lower()
    assert server.hits["/slow"] == 2
    assert elapsed < 1.2


def test_connection_refused_is_a_failure_not_an_exception(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch_status_page(f"http://127.0.0.1:{port}/", tmp_path, timeout=0.5, retries=0)
    assert not result.ok and "connection to 127.0.0.1 refused" == result.error


def test_cache_hit_within_ttl_does_not_reach_the_server(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"))
    first = fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0)
    second = fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0)
    assert server.hits["/status"] == 1
    assert not first.from_cache and second.from_cache
    assert second.body == first.body and second.fetched_at == first.fetched_at
    assert second.http_status == 200


def test_cache_expires_after_ttl(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"))
    fetch_status_page(url, tmp_path, ttl=0.3, timeout=2, retries=0)
    fetch_status_page(url, tmp_path, ttl=0.3, timeout=2, retries=0)
    assert server.hits["/status"] == 1
    time.sleep(0.4)
    third = fetch_status_page(url, tmp_path, ttl=0.3, timeout=2, retries=0)
    assert server.hits["/status"] == 2 and not third.from_cache


def test_zero_ttl_always_fetches(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"))
    for _ in range(3):
        fetch_status_page(url, tmp_path, ttl=0, timeout=2, retries=0)
    assert server.hits["/status"] == 3


def test_failure_is_cached_briefly_and_never_as_success(server, tmp_path):
    url = server.serve("/status", "boom", status=503)
    fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0, failure_ttl=60)
    again = fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0, failure_ttl=60)
    assert server.hits["/status"] == 1
    assert again.from_cache and not again.ok and again.body is None and again.http_status == 503
    # Once the failure entry has expired, IB recovering is seen at once.
    server.serve("/status", fixture_html("current_normal.html"))
    recovered = fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0, failure_ttl=0)
    assert recovered.ok and not recovered.from_cache and server.hits["/status"] == 2


def test_corrupt_cache_file_is_ignored_and_replaced(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"))
    path = cache_path(tmp_path, url)
    path.write_text("{not json", "utf-8")
    result = fetch_status_page(url, tmp_path, ttl=60, timeout=2, retries=0)
    assert result.ok and server.hits["/status"] == 1
    stored = json.loads(path.read_text("utf-8"))
    assert stored["url"] == url and stored["ok"] is True and stored["http_status"] == 200
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_each_url_has_its_own_cache_entry(server, tmp_path):
    a = server.serve("/a", fixture_html("current_normal.html"))
    b = server.serve("/b", fixture_html("platform_outage.html"))
    assert "No problems" in fetch_status_page(a, tmp_path, timeout=2, retries=0).body
    assert "Login problems" in fetch_status_page(b, tmp_path, timeout=2, retries=0).body
    assert server.hits["/a"] == server.hits["/b"] == 1


CHILD = textwrap.dedent("""
    import json, sys
    from traderctl.ibstatus.fetch import fetch_status_page
    r = fetch_status_page(sys.argv[1], sys.argv[2], ttl=60, timeout=5, retries=0)
    print(json.dumps({"ok": r.ok, "from_cache": r.from_cache}))
""")


def test_concurrent_threads_and_processes_fetch_once(server, tmp_path):
    url = server.serve("/status", fixture_html("current_normal.html"), delay=0.5)
    env = {**os.environ, "PYTHONPATH": str(SUPERVISOR)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(3)]
    barrier = threading.Barrier(4)
    results = []

    def call():
        barrier.wait()
        results.append(fetch_status_page(url, tmp_path, ttl=60, timeout=5, retries=0))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=15)
        assert p.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert server.hits["/status"] == 1
    assert all(r.ok for r in results) and all(o["ok"] for o in outputs)
    fresh = [r for r in results if not r.from_cache] + [o for o in outputs if not o["from_cache"]]
    assert len(fresh) == 1
