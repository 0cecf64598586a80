"""``order watch``: status, fills and commission until the order is done.

Polls TWS (all open orders, completed orders, executions) on its own client id, so it
can run beside the client that placed the order. A terminal gets a live rich table;
anything else gets one JSON line per change.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from traderctl_orders.manage import DONE, fills, order_rows
from traderctl_orders.table import build_table
from traderctl_orders.tws import OrderRefused, connected

POLL_SECONDS = 0.5


async def snapshot(ib: Any, order_id: int | None, perm_ids: set[int]) -> list[dict[str, Any]]:
    """The watched orders now (open or completed), each with its fills. Completed orders
    are matched by permId, seen while open or in the order's executions (TWS may not
    repeat the orderId of a completed order)."""
    trades = list(await ib.reqAllOpenOrdersAsync())
    if order_id is not None:
        trades = [t for t in trades if t.order.orderId == order_id]
    perm_ids.update(t.order.permId for t in trades)
    executions = await fills(ib, None)
    perm_ids.update(f["permId"] for f in executions if f["orderId"] == order_id)
    open_ids = {t.order.permId for t in trades}
    trades += [t for t in await ib.reqCompletedOrdersAsync(False)
               if t.order.permId not in open_ids
               and (t.order.permId in perm_ids or order_id is None)]
    rows = await order_rows(ib, trades)
    by_perm: dict[int, list[dict[str, Any]]] = {}
    for fill in executions:
        by_perm.setdefault(fill["permId"], []).append(fill)
    for row in rows:
        if order_id is not None:
            row["orderId"] = order_id
        mine = by_perm.get(row["permId"], [])
        row["fills"] = len(mine)
        shares = sum(f["shares"] for f in mine)
        if shares > row["filled"]:  # completed orders come back without their fill figures
            row["filled"] = shares
            row["avgFillPrice"] = sum(f["shares"] * f["price"] for f in mine) / shares
        row["commission"] = sum(f["commission"] or 0 for f in mine) or None
    return rows


def _finished(rows: list[dict[str, Any]], order_id: int | None) -> bool:
    if order_id is None:
        return bool(rows) and all(r["status"] in DONE for r in rows)
    return any(r["status"] in DONE for r in rows)


async def run_watch(config: Any, order_id: int | None, timeout: float | None) -> None:
    columns = ("orderId", "symbol", "action", "quantity", "status", "filled",
               "avgFillPrice", "fills", "commission", "conditions")
    terminal = sys.stdout.isatty()
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    seen: dict[Any, Any] = {}
    perm_ids: set[int] = set()
    async with connected(config, offset=2) as ib:
        live = _live_table() if terminal else None
        while True:
            rows = await snapshot(ib, order_id, perm_ids)
            if order_id is not None and not rows:
                raise OrderRefused(f"no open order {order_id}")
            if live is not None:
                live.update(build_table(rows, columns), refresh=True)
            for row in rows:
                key = row["permId"] or row["orderId"]
                if seen.get(key) != row and live is None:
                    print(json.dumps(row, default=str), flush=True)
                seen[key] = row
            if _finished(rows, order_id) or (deadline and loop.time() > deadline):
                break
            await asyncio.sleep(POLL_SECONDS)
        if live is not None:
            live.stop()


def _live_table() -> Any:
    from rich.live import Live

    live = Live(auto_refresh=False)
    live.start()
    return live

