"""A full disk under data_dir: supervision goes on, writes degrade, and recover with space."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import child, wait_until


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/data`` as a 2 MiB tmpfs (needs CAP_SYS_ADMIN; skipped visibly without)."""
    data = tmp_path / "data"
    data.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                             str(data)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    yield data
    subprocess.run(["umount", "-l", str(data)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full."""
    filler = directory / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_full_disk_degrades_and_recovers(small_data_dir: Path, daemon) -> None:
    d = daemon(f"""
        chatty:
          command: {child("chatty")}
        other:
          command: {child("sleeper")}
    """)
    d.wait_state("chatty", "running")
    chatty_pid = d.service("chatty")["pid"]
    log = small_data_dir / "logs" / "chatty.log"
    wait_until(lambda: log.exists() and log.stat().st_size > 0, 10, "chatty's log")
    filler = fill(small_data_dir)
    wait_until(lambda: d.events("disk_full"), 10, "a disk_full event")
    d.client.call("restart", names=["other"])  # its new pid cannot be saved now
    other_pid = d.wait_state("other", "running")["pid"]
    status = d.client.call("status")
    assert status["supervisor"]["disk"]["dropped_lines"] > 0
    assert "cannot write under data_dir" in status["supervisor"]["disk"]["detail"]
    assert "state" in status["supervisor"]["disk"]["writers"]
    assert d.service("chatty")["pid"] == chatty_pid  # no EPIPE, no restart
    shown = subprocess.run([sys.executable, "-m", "traderctl", "--config", str(d.config),
                            "status"], capture_output=True, text=True, timeout=30, check=False)
    assert "warning: cannot write under data_dir" in shown.stderr
    assert d.proc.poll() is None
    os.unlink(filler)
    wait_until(lambda: d.events("disk_recovered"), 10, "a disk_recovered event")
    assert d.client.call("status")["supervisor"]["disk"] is None
    assert len(d.events("disk_full")) == 1 and len(d.events("disk_recovered")) == 1  # no flap
    state = (small_data_dir / "state.json").read_text()
    wait_until(lambda: str(other_pid) in (small_data_dir / "state.json").read_text(), 5,
               f"the state file retried (is {state})")
    size = log.stat().st_size
    wait_until(lambda: log.stat().st_size > size, 5, "log lines written again")
    assert d.service("chatty")["pid"] == chatty_pid
    assert d.stop() == 0
    assert not os.path.exists(d.socket)


def test_supervisor_starts_on_a_full_disk(small_data_dir: Path, daemon) -> None:
    filler = fill(small_data_dir)
    d = daemon(f"chatty:\n  command: {child('chatty', 0.05)}\n")
    d.wait_state("chatty", "running")
    wait_until(lambda: d.client.call("status")["supervisor"]["disk"], 10, "a disk detail")
    os.unlink(filler)
    wait_until(lambda: d.client.call("status")["supervisor"]["disk"] is None, 10, "recovery")
    log = small_data_dir / "logs" / "chatty.log"
    wait_until(lambda: log.exists() and log.stat().st_size > 0, 10, "chatty's log")
