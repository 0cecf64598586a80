"""Line-based control channel for a simulator running in another process.

Bound to 127.0.0.1 only. One command per line, case-insensitive; replies are
one line ``OK <result>`` or ``ERROR <reason>`` (results of STATUS, ORDERS and
REQUESTS are JSON). Example: ``printf 'FREEZE\\n' | nc 127.0.0.1 7470``.

    PING                      OK pong
    STATUS                    OK {"port": ..., "frozen": false, ...}
    FREEZE | UNFREEZE
    DELAY <seconds> [jitter]
    DROP                      close every client connection
    REFUSE | ACCEPT           close / reopen the API port
    FARM <code> <farm>        e.g. FARM 2103 usfarm, FARM 2104 usfarm
    CONNECTIVITY <code>       1100, 1101 or 1102
    LOGIN <seconds>           API port closed while "logging in"
    SECOND_FACTOR             API port closed until APPROVE
    APPROVE
    RESTART [seconds]         warm restart (drop, port away, back)
    TRIGGER <orderId>         release a conditional order
    PRICE <symbol> <price>    move the market so the last price is <price> now
    GAP <symbol> <percent>    jump the price by a percentage (e.g. GAP AAPL -5)
    HALT <symbol> | RESUME <symbol>   trading halt (tick 49), price frozen
    VOLUME <symbol> <shares>  print shares on today's volume (a volume condition can fire)
    ORDERS                    JSON list of received orders
    REQUESTS [n]              JSON list of the last n requests (default 50)
    QUIT                      close this control connection
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from ._log import get_logger
from .lineserver import LineServer

if TYPE_CHECKING:
    from .server import SimTWS

log = get_logger(__name__)

_ARGS = {
    "delay": ("seconds", "jitter"),
    "farm": ("code", "farm"),
    "connectivity": ("code",),
    "login": ("seconds",),
    "restart": ("seconds",),
    "trigger": ("order_id",),
    "price": ("symbol", "price"),
    "gap": ("symbol", "percent"),
    "halt": ("symbol",),
    "resume": ("symbol",),
    "volume": ("symbol", "shares"),
}


def parse_command(line: str) -> tuple[str, dict[str, Any]]:
    """``DELAY 0.5 0.1`` -> ("delay", {"seconds": "0.5", "jitter": "0.1"})."""
    parts = line.strip().split()
    if not parts:
        raise ValueError("empty command")
    action = parts[0].lower().replace("-", "_")
    if action == "2fa":
        action = "second_factor"
    names = _ARGS.get(action, ())
    return action, dict(zip(names, parts[1:], strict=False))


class ControlServer(LineServer):
    def __init__(self, sim: SimTWS, port: int) -> None:
        super().__init__()
        self.sim = sim
        self.port = port

    async def start(self) -> None:
        self.port = await self.listen("127.0.0.1", self.port)
        log.info("sim_tws_control_listening", host="127.0.0.1", port=self.port)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := (await reader.readline()).decode(errors="replace"):
                if line.strip().lower() in ("quit", "exit"):
                    writer.write(b"OK bye\n")
                    break
                writer.write((await self.execute(line)).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def execute(self, line: str) -> str:
        """Run one command line and format the reply."""
        try:
            action, args = parse_command(line)
            if action == "ping":
                return "OK pong"
            if action == "orders":
                return "OK " + self.sim.orders_json()
            if action == "requests":
                count = int(args.get("n", line.split()[1] if len(line.split()) > 1 else 50))
                recent = list(self.sim.requests)[-count:]
                return "OK " + json.dumps(
                    [
                        {
                            "at": r.at.isoformat(),
                            "client_id": r.client_id,
                            "name": r.name,
                            "fields": r.fields,
                        }
                        for r in recent
                    ]
                )
            result = await self.sim.apply(action, args)
        except (ValueError, KeyError, IndexError) as exc:
            return f"ERROR {exc}"
        log.info("sim_tws_control_command", command=line.strip())
        return "OK" if result is None else "OK " + json.dumps(result)
