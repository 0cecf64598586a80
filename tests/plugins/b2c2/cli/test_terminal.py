"""The commands on a real terminal (a pty): ``trade``'s prompt counts down and gives up when
the quote expires; ``stream`` draws a live table."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from traderctl_b2c2.sim import FakeVenue


def spawn_on_pty(args: list[str], env: dict[str, str], cwd: Path
                 ) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "traderctl", *args], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True)
    os.close(slave)
    return proc, master


def read_until(master: int, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"no {needle!r} in {seen[-400:]!r}"
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
    return seen


def client_env(venue: FakeVenue) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    return {**env, "B2C2_APIKEY": venue.token, "TRADERCTL_B2C2__ENV": "custom",
            "TRADERCTL_B2C2__API_URL": venue.api_url, "TRADERCTL_B2C2__WS_URL": venue.ws_url}


def test_countdown_then_yes_executes(venue: FakeVenue, tmp_path: Path) -> None:
    proc, master = spawn_on_pty(["b2c2", "trade", "BTCUSD.SPOT", "buy", "1"],
                                client_env(venue), tmp_path)
    try:
        first = read_until(master, b"s left [y/N]")
        later = read_until(master, b"s left [y/N]")  # redrawn as time passes
        assert b"execute?" in first + later
        os.write(master, b"y\n")
        assert b"filled: buy 1 BTCUSD.SPOT" in read_until(master, b"filled")
        assert proc.wait(20) == 0
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def test_countdown_gives_up_when_the_quote_expires(tmp_path: Path) -> None:
    with FakeVenue(quote_ttl=1.0) as venue:
        proc, master = spawn_on_pty(["b2c2", "trade", "BTCUSD.SPOT", "buy", "1"],
                                    client_env(venue), tmp_path)
        try:
            assert b"quote expired" in read_until(master, b"quote expired")
            assert proc.wait(20) == 1
            assert venue.state.accounts[venue.token].orders == []
        finally:
            proc.kill()
            proc.wait()
            os.close(master)


def test_stream_draws_a_table_on_a_terminal(venue: FakeVenue, tmp_path: Path) -> None:
    proc, master = spawn_on_pty(["b2c2", "stream", "BTCUSD.SPOT", "--levels", "1,3",
                                 "--count", "3"], client_env(venue), tmp_path)
    try:
        screen = read_until(master, b"BTCUSD.SPOT  3")
        assert b"\x1b[H\x1b[J" in screen and b"SELL (BID)" in screen
        assert proc.wait(20) == 0
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
