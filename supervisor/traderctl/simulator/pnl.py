"""reqPnL (92) / reqPnLSingle (94) and their cancels: P&L pushed once a second.

The same once-a-second loop pushes changed account values to
reqAccountUpdates subscribers (positions and portfolio rows go out at
once after each fill; values are batched, as TWS batches them).

TWS answers a subscription at once and then about every second with
``pnl`` (94: daily, unrealized, realized) or ``pnlSingle`` (95: position,
daily, unrealized, realized, value) from the account model
(:mod:`.ledger`): daily P&L is measured against the previous session's
close, unrealized against the average cost. An unknown conId for
reqPnLSingle is answered with no rows, as TWS does for a position the
account does not hold (it sends only UNSET values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import ledger
from .protocol import UNSET_DOUBLE

if TYPE_CHECKING:
    from .session import ClientSession

PNL, PNL_SINGLE = 94, 95


@dataclass(frozen=True)
class PnLRequest:
    session: ClientSession
    req_id: int
    account: str
    con_id: int  # 0: the whole account


class PnLFeed:
    """Open P&L subscriptions; ``run`` refreshes them every ``period`` seconds."""

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self.subs: dict[tuple[int, int], PnLRequest] = {}

    def request(self, session: ClientSession, f: list[str], single: bool) -> None:
        req_id = int(f[1])
        account = f[2] if len(f) > 2 and f[2] else session.sim.book.accounts[0]
        con_id = int(f[4] or 0) if single and len(f) > 4 else 0
        req = PnLRequest(session, req_id, account, con_id)
        self.subs[(id(session), req_id)] = req
        session.send(self.row(req))

    def cancel(self, session: ClientSession, f: list[str]) -> None:
        self.subs.pop((id(session), int(f[1])), None)

    async def run(self, each_period: Callable[[], None] | None = None) -> None:
        while True:
            await asyncio.sleep(self.period)
            if each_period is not None:
                each_period()
            for key, req in list(self.subs.items()):
                if req.session.closed:
                    del self.subs[key]
                else:
                    req.session.send(self.row(req))

    def row(self, req: PnLRequest) -> list[Any]:
        sim = req.session.sim
        book = sim.book
        totals = [0.0, 0.0, 0.0, 0.0, 0.0]  # position, daily, unrealized, realized, value
        for pos in book.positions:
            if pos.account != req.account or (req.con_id and pos.listing.con_id != req.con_id):
                continue
            quote = sim.market.quote(pos.listing, sim.now_ts())
            daily, unrealized, realized, value = ledger.position_pnl(
                book, pos, quote.last, quote.close
            )
            for i, v in enumerate((pos.position, daily, unrealized, realized, value)):
                totals[i] += v
        if not req.con_id:
            realized_all = sum(book.realized.values())
            return [
                PNL,
                req.req_id,
                round(totals[1] + realized_all, 2),
                round(totals[2], 2),
                round(realized_all, 2),
            ]
        if not any(p.listing.con_id == req.con_id for p in book.positions):
            return [
                PNL_SINGLE,
                req.req_id,
                0,
                UNSET_DOUBLE,
                UNSET_DOUBLE,
                UNSET_DOUBLE,
                UNSET_DOUBLE,
            ]
        return [PNL_SINGLE, req.req_id, totals[0], *(round(v, 2) for v in totals[1:])]
