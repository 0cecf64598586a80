"""Demo service: a toy strategy that watches the TWS clock and prints a heartbeat.

It depends on the collector in the demo graph: when the collector or TWS
goes down the supervisor stops it, and starts it again once they are back.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ib_async import IB


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7497)
    p.add_argument("--client-id", type=int, default=12)
    args = p.parse_args()
    ib = IB()
    await ib.connectAsync(args.host, args.port, clientId=args.client_id, timeout=10)
    try:
        while ib.isConnected():
            now = await asyncio.wait_for(ib.reqCurrentTimeAsync(), 10)
            print(f"strategy: TWS time {now.isoformat()}, no signal", flush=True)
            await asyncio.sleep(10)
    finally:
        ib.disconnect()
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
