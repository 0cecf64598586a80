"""Reloads are serialized: however many arrive, one copy of each service runs."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil

from tests.daemon.conftest import child, wait_until


def copies(root: Path, service: str) -> list[int]:
    """Live processes of ``service`` started by a supervisor under ``root``."""
    found = []
    for proc in psutil.process_iter():
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if env.get("TRADERCTL_SERVICE") == service and \
                env.get("TRADERCTL_OWNER", "").startswith(str(root)):
            found.append(proc.pid)
    return found


def test_sighup_storm_while_a_changed_service_stops_leaves_one_copy(daemon, tmp_path) -> None:
    d = daemon(f"""
        slow:
          command: {child("slow_stop", 1.0)}
          env: {{VERSION: "1"}}
    """)
    d.wait_state("slow", "running")
    log = tmp_path / "data" / "logs" / "slow.log"
    wait_until(lambda: log.exists() and "slow_stop up" in log.read_text(), 10, "handler set")
    d.config.write_text(d.config.read_text().replace('VERSION: "1"', 'VERSION: "2"'))
    for _ in range(6):
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
    wait_until(lambda: len(d.events("config_reloaded")) >= 1, 20, "a reload")
    d.wait_state("slow", "running", timeout=20)
    time.sleep(1.5)  # any duplicate started by a late reload would be up by now
    d.wait_state("slow", "running", timeout=20)
    pid = d.service("slow")["pid"]
    assert copies(tmp_path, "slow") == [pid]
    # the storm was merged: nothing changed after the first reload, so no more restarts
    restarted = [e for e in d.events("config_reloaded") if e["restarted"]]
    assert len(restarted) == 1
    d.client.call("stop", names=["slow"])
    wait_until(lambda: not copies(tmp_path, "slow"), 10, "no copy after stop")


def test_reload_of_an_alias_bomb_is_refused_at_once(daemon) -> None:
    from tests.config.test_hostile import LAUGHS

    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    pid = d.wait_state("a", "running")["pid"]
    d.config.write_text(d.config.read_text() + LAUGHS)
    started = time.monotonic()
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: d.events("reload_refused"), 5, "reload_refused")
    assert time.monotonic() - started < 5
    (refused,) = d.events("reload_refused")
    assert any("YAML aliases expand" in p for p in refused["problems"])
    assert d.service("a")["pid"] == pid
