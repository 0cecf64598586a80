"""traderctl's tws watchdog vs ib_async's Watchdog, on the same simulator, in one run.

Both sides run a fake IBC launcher (``ibc/fake/scripts/ibcstart.sh``: IBC's
arguments and config.ini, the TWS simulator behind it), each on its own ports:

* traderctl: a real ``traderctl supervise`` with one ``tws`` service and the
  type's default probe settings (probe every 2 s, 3 failures, 2 s timeout).
* ib_async: ``Watchdog(IBC(...), IB())`` with its defaults (appStartupTime 30 s,
  appTimeout 20 s, probeTimeout 4 s, retryDelay 2 s).

1. Freeze: both simulated APIs freeze at the same instant (the simulator's
   FREEZE: connections accepted, nothing answered). Measured per side: freeze
   -> detection (traderctl: the service turns ``unhealthy``; ib_async:
   ``hardTimeoutEvent``) and freeze -> recovery (traderctl: ``running`` again;
   ib_async: ``startedEvent``). A restarted TWS is not hung: ib_async's cold
   restart gets a fresh simulator process; for traderctl's warm RESTART (same
   IBC process) the bench sends UNFREEZE when it sees the RESTART go out.
2. Soak: 200 ms of uniform reply jitter on both simulators (the simulator's
   ``DELAY 0 0.2``) for ``--soak`` seconds; every restart or remedy is a false
   one.

    .venv/bin/python bench/bench_tws_watchdog.py            # 10 minute soak
    .venv/bin/python bench/bench_tws_watchdog.py --quick    # 60 s soak
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE_IBC = REPO / "ibc" / "fake"


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


async def sim_control(port: int, command: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(command.encode() + b"\n")
        await writer.drain()
        return (await reader.readline()).decode().strip()
    finally:
        writer.close()
        await writer.wait_closed()


async def until(predicate: Any, timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(step)
    raise TimeoutError("condition not met in time")


class TraderctlSide:
    """A real supervisor with a default-settings tws service on the fake IBC."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.api, self.command, self.control = free_ports(3)
        self.socket = str(root / "run" / "traderctl.sock")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.root / "jts").mkdir(parents=True)
        scenario = self.root / "fake-ibc.json"
        scenario.write_text(json.dumps({"ibc": {"login_seconds": 0.5, "restart_seconds": 1.0}}))
        config = {
            "supervisor": {"socket": self.socket, "data_dir": str(self.root / "data")},
            "checks": {"ib_status": {"gate": False}},
            "services": {"tws": {
                "type": "tws", "mode": "paper", "gateway": True, "tws_version": "1030",
                "tws_path": str(self.root / "jts"), "ibc_path": str(FAKE_IBC),
                "api_port": self.api, "command_server_port": self.command,
                "username": "bench", "password": "bench-password",
                "reset_windows": [], "auto_restart_time": "", "cold_restart_time": "",
                "env": {"TRADERCTL_PYTHON": sys.executable, "FAKE_IBC_SCENARIO": str(scenario),
                        "FAKE_IBC_CONTROL_PORT": str(self.control)},
            }},
        }
        path = self.root / "trader.yaml"
        path.write_text(json.dumps(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
        self.err = (self.root / "supervisor.err").open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "traderctl", "--config", str(path),
                                      "--log-format", "json", "supervise"],
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=env)

    async def call(self, cmd: str, **args: Any) -> Any:
        from traderctl.daemon.client import ControlClient, DaemonUnreachable

        try:
            return await asyncio.to_thread(ControlClient(self.socket, timeout=10).call, cmd,
                                           **args)
        except (DaemonUnreachable, OSError):
            return None

    async def state(self) -> dict[str, Any] | None:
        found = await self.call("status", names=["tws"])
        return found["services"][0] if found else None

    async def events(self, *names: str) -> list[dict[str, Any]]:
        found = await self.call("events", limit=5000, events=list(names))
        return [e for e in (found or {}).get("events", []) if e.get("service") == "tws"]

    async def ready(self) -> None:
        async def running() -> bool:
            s = await self.state()
            return bool(s and s["state"] == "running")
        await until(running, 60)

    async def measure_freeze(self, frozen_at: float) -> dict[str, float | None]:
        detected = recovered = None
        unfrozen = False
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and recovered is None:
            states = await self.events("service_state", "tws_remedy")
            for e in states:
                at = datetime.fromisoformat(e["ts"]).timestamp()
                if at < frozen_at:
                    continue
                if e["event"] == "service_state" and e["to"] == "unhealthy" and detected is None:
                    detected = at - frozen_at
                if e["event"] == "tws_remedy" and e["action"] == "RESTART" and not unfrozen:
                    unfrozen = True
                    await sim_control(self.control, "UNFREEZE")
                if (e["event"] == "service_state" and e["to"] == "running"
                        and detected is not None):
                    recovered = at - frozen_at
            await asyncio.sleep(0.1)
        return {"detected": detected, "recovered": recovered}

    async def restart_count(self) -> int:
        s = await self.state()
        remedies = await self.events("tws_remedy")
        return (s["restarts"] if s else 0) + len(remedies)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        self.err.close()


class WatchdogSide:
    """ib_async's Watchdog with its defaults over the fake IBC (its IBC class, real args)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.api, self.control = free_ports(2)
        self.stamps: dict[str, list[float]] = {"started": [], "hard": [], "soft": [],
                                               "starting": []}
        self.watchdog: Any = None
        self.task: asyncio.Future[Any] | None = None

    def start(self) -> None:
        import logging

        from ib_async import IB, IBC, Watchdog

        logging.getLogger("ib_async").setLevel(logging.CRITICAL)
        (self.root / "jts").mkdir(parents=True)
        ini = self.root / "config.ini"
        ini.write_text(f"OverrideTwsApiPort={self.api}\nCommandServerPort=0\n")
        (self.root / "fake-ibc.json").write_text(json.dumps({"ibc": {"login_seconds": 0.5}}))
        os.environ["TRADERCTL_PYTHON"] = sys.executable
        os.environ["FAKE_IBC_CONTROL_PORT"] = str(self.control)
        ibc = IBC(twsVersion=1030, gateway=True, tradingMode="paper",
                  twsPath=str(self.root / "jts"), ibcPath=str(FAKE_IBC), ibcIni=str(ini))
        self.watchdog = Watchdog(ibc, IB(), port=self.api, clientId=7)
        for name, event in (("started", self.watchdog.startedEvent),
                            ("hard", self.watchdog.hardTimeoutEvent),
                            ("soft", self.watchdog.softTimeoutEvent),
                            ("starting", self.watchdog.startingEvent)):
            event += lambda *_a, name=name: self.stamps[name].append(time.time())
        self.task = self.watchdog.start()

    async def ready(self) -> None:
        async def started() -> bool:
            return bool(self.stamps["started"])
        await until(started, 90)

    async def measure_freeze(self, frozen_at: float) -> dict[str, float | None]:
        async def recovered() -> bool:
            return any(t > frozen_at for t in self.stamps["started"])
        try:
            await until(recovered, 180, step=0.1)
        except TimeoutError:
            pass
        hard = [t - frozen_at for t in self.stamps["hard"] if t > frozen_at]
        back = [t - frozen_at for t in self.stamps["started"] if t > frozen_at]
        return {"detected": hard[0] if hard else None, "recovered": back[0] if back else None}

    def restart_count(self) -> int:
        return len(self.stamps["hard"]) + max(0, len(self.stamps["started"]) - 1)

    async def stop(self) -> None:
        if self.watchdog is None:
            return
        self.watchdog.stop()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.watchdog.controller.terminateAsync()


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:6.1f} s"


async def run(soak: float) -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-tws-"))
    ours, theirs = TraderctlSide(root / "traderctl"), WatchdogSide(root / "ib_async")
    (root / "traderctl").mkdir()
    (root / "ib_async").mkdir()
    try:
        ours.start()
        theirs.start()
        print("starting both (ib_async's Watchdog sleeps appStartupTime=30 s blind) ...",
              flush=True)
        await asyncio.gather(ours.ready(), theirs.ready())
        await asyncio.sleep(3)
        frozen_at = time.time()
        await asyncio.gather(sim_control(ours.control, "FREEZE"),
                             sim_control(theirs.control, "FREEZE"))
        print("both APIs frozen; measuring ...", flush=True)
        a, b = await asyncio.gather(ours.measure_freeze(frozen_at),
                                    theirs.measure_freeze(frozen_at))
        await ours.ready()
        print(f"soaking {soak:g} s with 200 ms reply jitter ...", flush=True)
        base_ours, base_theirs = await ours.restart_count(), theirs.restart_count()
        await asyncio.gather(sim_control(ours.control, "DELAY 0 0.2"),
                             sim_control(theirs.control, "DELAY 0 0.2"))
        await asyncio.sleep(soak)
        false_ours = await ours.restart_count() - base_ours
        false_theirs = theirs.restart_count() - base_theirs
        print()
        print("                          freeze->detection  freeze->recovery  "
              f"false restarts ({soak:g} s, 200 ms jitter)")
        print(f"traderctl (defaults)       {fmt(a['detected'])}          {fmt(a['recovered'])}"
              f"          {false_ours}")
        print(f"ib_async Watchdog (dflt)   {fmt(b['detected'])}          {fmt(b['recovered'])}"
              f"          {false_theirs}")
        print()
        print("traderctl: probe 2 s x 3 failures + 2 s timeout (bound 8 s), warm RESTART via "
              "IBC (no second factor)")
        print("ib_async:  appTimeout 20 s + probeTimeout 4 s, then a cold restart "
              "(terminate IBC, appStartupTime 30 s)")
        if false_theirs:
            print("ib_async's false restarts: its probe is reqHistoricalData(EURUSD, 30 S, "
                  "MIDPOINT); outside FX hours (weekends) and in IB's reset windows it gets "
                  "error 162 'HMDS query returned no data', which it takes for a hang.")
        ok = (a["detected"] is not None and a["detected"] < 10 and false_ours == 0)
        return 0 if ok else 1
    finally:
        await theirs.stop()
        await asyncio.to_thread(ours.stop)
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--soak", type=float, default=600.0, help="soak seconds (default 600)")
    parser.add_argument("--quick", action="store_true", help="60 s soak")
    args = parser.parse_args()
    return asyncio.run(run(60.0 if args.quick else args.soak))


if __name__ == "__main__":
    sys.exit(main())
