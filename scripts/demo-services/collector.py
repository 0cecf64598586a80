"""Demo service: download daily bars for a few symbols from TWS every interval.

Stands in for a trader's data downloader: it connects with ib_async to
``--host``/``--port``, resolves symbols, pulls bars and says what it got.
Losing TWS ends it with exit code 1 so the supervisor's graph takes over.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ib_async import IB, Stock


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7497)
    p.add_argument("--client-id", type=int, default=11)
    p.add_argument("--interval", type=float, default=15.0)
    p.add_argument("symbols", nargs="*", default=["AAPL", "MSFT", "SPY"])
    args = p.parse_args()
    ib = IB()
    await ib.connectAsync(args.host, args.port, clientId=args.client_id, timeout=10)
    try:
        contracts = await ib.qualifyContractsAsync(*(Stock(s, "SMART", "USD") for s in args.symbols))
        print(f"collector: resolved {[c.conId for c in contracts if c]}", flush=True)
        while ib.isConnected():
            for contract in filter(None, contracts):
                bars = await ib.reqHistoricalDataAsync(contract, "", "5 D", "1 day", "TRADES", True)
                if bars:
                    print(f"collector: {contract.symbol} {len(bars)} bars, last close "
                          f"{bars[-1].close:.2f}", flush=True)
            await asyncio.sleep(args.interval)
    finally:
        ib.disconnect()
    print("collector: lost TWS", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
