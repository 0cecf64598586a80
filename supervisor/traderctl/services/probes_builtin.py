"""Built-in probe kinds: ``after`` (alive that long), ``tcp`` (accepts), ``command`` (exits 0)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from traderctl.config.schema import Duration, HostPort, split_hostport
from traderctl.services.probes import ProbeFunc, ProbeResult, ProbeType

if TYPE_CHECKING:
    from traderctl.services.runner import ServiceRunner


def after_probe(seconds: float, runner: ServiceRunner) -> ProbeFunc:
    async def probe() -> ProbeResult:
        import asyncio

        alive = time.monotonic() - runner.spawned_at
        if alive < seconds:
            await asyncio.sleep(seconds - alive)
        return ProbeResult(True, f"alive for {seconds:g}s")
    return probe


def tcp_probe(address: str, runner: ServiceRunner) -> ProbeFunc:
    host, port = split_hostport(address)

    async def probe() -> ProbeResult:
        import asyncio

        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            return ProbeResult(False, f"{address}: {exc.strerror or exc}")
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return ProbeResult(True, f"{address} accepts connections")
    return probe


def command_probe(argv: list[str], runner: ServiceRunner) -> ProbeFunc:
    from traderctl.services.process import run_command

    async def probe() -> ProbeResult:
        code, output = await run_command(argv, cwd=runner.spec.get("cwd"), env=runner.child_env())
        tail = output.strip().splitlines()[-1:] if output.strip() else []
        return ProbeResult(code == 0, f"exit {code}" + (f": {tail[0][:200]}" if tail else ""))
    return probe


def builtin_probe_types() -> list[ProbeType]:
    from traderctl.services.spec import Command

    return [
        ProbeType("after", Duration(), after_probe, "Ready once alive this long."),
        ProbeType("tcp", HostPort(), tcp_probe, "Ready once host:port accepts a connection."),
        ProbeType("command", Command(), command_probe, "Ready once the command exits 0."),
    ]


