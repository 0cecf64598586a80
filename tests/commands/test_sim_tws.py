"""``traderctl sim-tws`` as a real process, reached by the real ib_async client."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

from ib_async import IB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sim_tws_command_serves_the_api_and_stops_on_sigterm(tmp_path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    env["TRADERCTL_IB__PORT"] = str(port)  # the port comes from the one configuration
    proc = subprocess.Popen([sys.executable, "-m", "traderctl", "sim-tws", "--time-scale", "0.01"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, proc.stderr
                time.sleep(0.05)

        async def ask() -> float:
            ib = IB()
            await ib.connectAsync("127.0.0.1", port, clientId=5, timeout=5)
            try:
                return (await ib.reqCurrentTimeAsync()).timestamp()
            finally:
                ib.disconnect()

        assert abs(asyncio.run(ask()) - time.time()) < 5
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "0.01" in err  # it logs the time scale it runs at
