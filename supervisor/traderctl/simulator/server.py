"""SimTWS: the simulated TWS / IB Gateway server and its control surface.

All control methods are coroutines to be awaited on the simulator's own
event loop; :class:`traderctl.simulator.threaded.SimTWSThread` wraps them for
synchronous callers (pytest), and :mod:`traderctl.simulator.control` exposes
them as a line protocol for a simulator running in another process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import orders
from ._log import get_logger
from .account import AccountBook
from .bars import PriceModel
from .clock import DEFAULT_TWS_ZONE, utcnow, valid_zone
from .conditions import ConditionContext, conditions_met
from .faults import CONNECTIVITY_MESSAGES, FARM_MESSAGES, FaultState
from .pacing import HistoricalPacer
from .protocol import MAX_SERVER_VERSION
from .scenario import Scenario, load_scenario
from .session import ClientSession, RequestRecord
from .universe import Listing, Universe

log = get_logger(__name__)

MIN_SERVER_VERSION = 176
CONDITION_POLL = 0.2


@dataclass
class SimConfig:
    """Simulator settings; scenario values fill in whatever is left as None."""

    host: str = "127.0.0.1"
    port: int = 0
    universe_path: str | None = None
    scenario_path: str | None = None
    scenario: Scenario | None = None
    time_scale: float | None = None
    server_version: int | None = None
    limits: bool | None = None
    timezone: str | None = None
    control_port: int | None = None
    login_seconds: float = 0.0
    second_factor: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> tuple[SimConfig, Scenario]:
        """Fill defaults from the scenario and validate."""
        scenario = self.scenario or load_scenario(self.scenario_path)
        cfg = SimConfig(**{**self.__dict__})
        cfg.scenario = scenario
        cfg.time_scale = float(_first(self.time_scale, scenario.time_scale, 1.0))
        cfg.server_version = int(
            _first(self.server_version, scenario.server_version, MAX_SERVER_VERSION)
        )
        cfg.limits = bool(_first(self.limits, scenario.limits, True))
        cfg.timezone = str(_first(self.timezone, scenario.timezone, DEFAULT_TWS_ZONE))
        if not MIN_SERVER_VERSION <= cfg.server_version <= MAX_SERVER_VERSION:
            raise ValueError(f"server_version must be {MIN_SERVER_VERSION}..{MAX_SERVER_VERSION}")
        if cfg.time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        if not valid_zone(cfg.timezone):
            raise ValueError(f"unknown time zone {cfg.timezone!r}")
        return cfg, scenario


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


@lru_cache(maxsize=8)
def _load_universe(path: str, mtime: float) -> Universe:
    return Universe.load(path)


def load_universe(path: str | None) -> Universe:
    """Universe, cached per file and modification time (fixtures start often)."""
    from .universe import DEFAULT_UNIVERSE

    target = str(
        Path(path or os.environ.get("TRADERCTL_SIM_UNIVERSE") or DEFAULT_UNIVERSE).resolve()
    )
    return _load_universe(target, Path(target).stat().st_mtime)


class SimTWS:
    """A TWS/Gateway look-alike on a TCP port, driven by ib_async or any TWS API client."""

    def __init__(self, config: SimConfig | None = None, **kwargs: Any) -> None:
        base = config or SimConfig(**kwargs)
        self.config, self.scenario = base.resolve()
        self.universe = load_universe(self.config.universe_path)
        self.book = AccountBook(self.scenario, self.universe)
        self.pacer = HistoricalPacer(self.config.time_scale or 1.0, bool(self.config.limits))
        self.faults = FaultState()
        for farm, ok in self.scenario.farms.items():
            kind = self.faults.farms.get(farm, ("market", True))[0]
            self.faults.farms[farm] = (kind, ok)
        self.faults.second_factor_pending = self.config.second_factor
        self.next_order_id = self.scenario.next_order_id
        self.host = self.config.host
        self.port = self.config.port
        self.orders: list[orders.OrderRecord] = []
        self.requests: deque[RequestRecord] = deque(maxlen=20_000)
        self.second_factor_approved = asyncio.Event()
        self._orders_by_key: dict[tuple[int, int], orders.OrderRecord] = {}
        self._perm_ids = itertools.count(1_800_000_001)
        self._models: dict[int, PriceModel] = {}
        self._sessions: set[ClientSession] = set()
        self._clients: dict[int, ClientSession] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._control: Any = None
        self._started = False
        self._stopping = False

    # ---- lifecycle ----------------------------------------------------------------

    async def start(self) -> SimTWS:
        """Bind the API port (listening only if no phase keeps it closed)."""
        if self.config.login_seconds:
            self.faults.login_until = time.monotonic() + self.config.login_seconds
            self._spawn(self._reopen_after(self.config.login_seconds))
        await self._bind()
        self._started = True
        log.info(
            "sim_tws_listening",
            host=self.host,
            port=self.port,
            server_version=self.config.server_version,
            time_scale=self.config.time_scale,
            limits=self.config.limits,
            timezone=self.config.timezone,
            port_open=self.faults.port_open,
            contracts=len(self.universe.listings),
        )
        if self.config.control_port is not None:
            from .control import ControlServer

            self._control = ControlServer(self, self.config.control_port)
            await self._control.start()
        if self.scenario.faults:
            self._spawn(self._run_timeline())
        self._spawn(self._watch_conditions())
        return self

    async def stop(self) -> None:
        """Close the port and every connection; cancel and await all tasks."""
        self._stopping = True
        if self._control is not None:
            await self._control.stop()
            self._control = None
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for session in list(self._sessions):
            session.close()
        tasks = list(self._tasks)
        for task in tasks:
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await asyncio.wait_for(server.wait_closed(), 5)
        self._started = False
        log.info("sim_tws_stopped", port=self.port)

    async def __aenter__(self) -> SimTWS:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _bind(self) -> None:
        self._server = await asyncio.start_server(
            self._on_client,
            self.host,
            self.port,
            reuse_address=True,
            start_serving=False,
            limit=1 << 20,
        )
        if not self.port:
            self.port = self._server.sockets[0].getsockname()[1]
        if self.faults.port_open:
            await self._server.start_serving()

    async def _sync_listener(self) -> None:
        """Open or close the API port to match the fault state."""
        if self.faults.port_open and self._server is None:
            await self._bind()
            log.info("sim_tws_port_opened", port=self.port)
        elif not self.faults.port_open and self._server is not None:
            server, self._server = self._server, None
            server.close()
            log.info("sim_tws_port_closed", port=self.port, state=self.faults.summary())

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        session = ClientSession(self, reader, writer)
        self._sessions.add(session)
        try:
            await session.run()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() cancels sessions stuck in a freeze; end quietly so the
            # stream protocol's done-callback does not log the cancellation
        finally:
            self._sessions.discard(session)

    # ---- session callbacks ----------------------------------------------------------

    def claim_client_id(self, client_id: int, session: ClientSession) -> bool:
        holder = self._clients.get(client_id)
        if holder is not None and not holder.closed:
            return False
        self._clients[client_id] = session
        return True

    def forget(self, session: ClientSession) -> None:
        if session.client_id is not None and self._clients.get(session.client_id) is session:
            del self._clients[session.client_id]

    def record(self, rec: RequestRecord) -> None:
        self.requests.append(rec)

    def model(self, listing: Listing) -> PriceModel:
        model = self._models.get(listing.con_id)
        if model is None:
            model = self._models[listing.con_id] = PriceModel.for_listing(listing)
        return model

    def models_for_positions(self) -> dict[int, PriceModel]:
        return {p.listing.con_id: self.model(p.listing) for p in self.book.positions}

    def head_timestamp(self, listing: Listing) -> datetime:
        """Earliest data point: fixed 20 years before 2026-01-01 at the first session."""
        start = datetime(2006, 1, 3, tzinfo=utcnow().tzinfo)
        sessions = listing.calendar.sessions_between(start, start + timedelta(days=7), rth=False)
        return sessions[0].open if sessions else start

    def connectivity_text(self, code: int) -> str:
        return CONNECTIVITY_MESSAGES[code]

    # ---- orders ---------------------------------------------------------------------

    def live_orders(self) -> list[orders.OrderRecord]:
        return [r for r in self.orders if not r.is_done]

    def _listing_fields(self, rec: orders.OrderRecord) -> dict[str, Any]:
        lst = self.universe.get(rec.con_id)
        if lst is None:
            c = rec.contract
            return {
                "conId": c.con_id,
                "symbol": c.symbol,
                "secType": c.sec_type,
                "exchange": c.exchange,
                "currency": c.currency,
                "localSymbol": c.local_symbol,
                "tradingClass": c.trading_class,
            }
        return {
            "conId": lst.con_id,
            "symbol": lst.symbol,
            "secType": lst.sec_type,
            "exchange": lst.exchange,
            "currency": lst.currency,
            "localSymbol": lst.local_symbol,
            "tradingClass": lst.trading_class,
        }

    def open_order_fields(
        self, rec: orders.OrderRecord, version: int, what_if: dict[str, str] | None = None
    ) -> list[Any]:
        return orders.open_order(rec, self._listing_fields(rec), version, what_if)

    def place_order(self, session: ClientSession, fields: list[str]) -> None:
        decoded = orders.decode_place_order(fields, session.version)
        order_id = decoded["order_id"]
        client_id = session.client_id or 0
        key = (client_id, order_id)
        existing = self._orders_by_key.get(key)
        if existing is not None and existing.is_done:
            session.error(order_id, 103, "Duplicate order id")
            return
        listing = self.universe.resolve_one(decoded["contract"])
        rec = orders.OrderRecord(
            order_id=order_id,
            client_id=client_id,
            perm_id=existing.perm_id if existing else next(self._perm_ids),
            contract=decoded["contract"],
            order=decoded["order"],
            conditions=decoded["conditions"],
            conditions_ignore_rth=decoded["ignore_rth"],
            conditions_cancel_order=decoded["cancel_order"],
            received_at=utcnow(),
            raw_fields=list(fields),
            con_id=listing.con_id if listing else 0,
            algo_params=decoded["algo_params"],
            condition_block=decoded["condition_block"],
        )
        self.orders.append(rec)
        self.next_order_id = max(self.next_order_id, order_id + 1)
        log.info(
            "sim_tws_order_received",
            client_id=client_id,
            order_id=order_id,
            perm_id=rec.perm_id,
            action=rec.order.get("action"),
            quantity=rec.order.get("totalQuantity"),
            order_type=rec.order.get("orderType"),
            conditions=len(rec.conditions),
            modify=bool(existing),
        )
        if listing is None:
            rec.set_status("Cancelled")
            session.error(order_id, 200, "No security definition has been found for the request")
            return
        if existing is not None:
            self.orders.remove(existing)
        self._orders_by_key[key] = rec
        if rec.order.get("whatIf") in ("1", "True"):
            self._answer_what_if(session, rec, listing)
            return
        rec.set_status("PreSubmitted" if rec.conditions else "Submitted")
        session.send(self.open_order_fields(rec, session.version))
        session.send(orders.order_status(rec))

    def _answer_what_if(
        self, session: ClientSession, rec: orders.OrderRecord, listing: Listing
    ) -> None:
        """whatIf: margin impact only; the order is not kept."""
        rec.set_status("PreSubmitted")
        self.orders.remove(rec)
        del self._orders_by_key[(rec.client_id, rec.order_id)]
        price = self.model(listing).price(utcnow().timestamp())
        notional = price * rec.total_quantity
        eq = self.book.value("EquityWithLoanValue") or "0"
        what_if = {
            "initMarginBefore": "0",
            "maintMarginBefore": "0",
            "equityWithLoanBefore": eq,
            "initMarginChange": f"{notional * 0.25:.2f}",
            "maintMarginChange": f"{notional * 0.25:.2f}",
            "equityWithLoanChange": "0",
            "initMarginAfter": f"{notional * 0.25:.2f}",
            "maintMarginAfter": f"{notional * 0.25:.2f}",
            "equityWithLoanAfter": eq,
            "commission": "1.0",
            "commissionCurrency": listing.currency,
        }
        session.send(self.open_order_fields(rec, session.version, what_if))

    def cancel_order(
        self, session: ClientSession, order_id: int, client_id: int | None = None
    ) -> None:
        key = (session.client_id if client_id is None else client_id, order_id)
        rec = self._orders_by_key.get(key)
        if rec is None or rec.is_done:
            session.error(
                order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
            )
            return
        rec.set_status("Cancelled")
        log.info("sim_tws_order_cancelled", client_id=rec.client_id, order_id=order_id)
        self._notify_order(rec)
        owner = self._clients.get(rec.client_id)
        if owner is not None:
            owner.error(order_id, 202, "Order Canceled - reason:")

    def _notify_order(self, rec: orders.OrderRecord) -> None:
        owner = self._clients.get(rec.client_id)
        if owner is not None and not owner.closed:
            owner.send(self.open_order_fields(rec, owner.version))
            owner.send(orders.order_status(rec))

    async def _watch_conditions(self) -> None:
        """Release conditional orders whose conditions have become true."""
        while True:
            await asyncio.sleep(CONDITION_POLL)
            pending = [r for r in self.orders if r.status == "PreSubmitted" and r.conditions]
            if pending:
                self._check_conditions(pending)

    def _check_conditions(self, pending: list[orders.OrderRecord]) -> None:
        now = utcnow()
        ctx = ConditionContext(
            now,
            self.config.timezone or DEFAULT_TWS_ZONE,
            lambda cid: self.model(lst) if (lst := self.universe.get(cid)) else None,
            self.universe.get,
            float(self.book.value("Cushion") or 1),
        )
        for rec in pending:
            listing = self.universe.get(rec.con_id)
            if (
                not rec.conditions_ignore_rth
                and listing
                and not listing.calendar.is_open(now, rth=True)
            ):
                continue
            if conditions_met(rec.conditions, ctx):
                self._release(rec)

    def _release(self, rec: orders.OrderRecord) -> None:
        rec.set_status("Cancelled" if rec.conditions_cancel_order else "Submitted")
        log.info(
            "sim_tws_conditions_met",
            order_id=rec.order_id,
            client_id=rec.client_id,
            status=rec.status,
        )
        self._notify_order(rec)

    # ---- control surface ------------------------------------------------------------

    def _broadcast_error(self, code: int, text: str) -> None:
        for session in list(self._sessions):
            if session.ready:
                session.error(-1, code, text)

    async def freeze(self) -> None:
        """Accept connections but answer nothing until unfreeze()."""
        self.faults.freeze()
        log.warning("sim_tws_frozen")

    async def unfreeze(self) -> None:
        self.faults.unfreeze()
        log.info("sim_tws_unfrozen")

    async def set_delay(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every reply by ``seconds`` plus uniform jitter."""
        self.faults.delay, self.faults.jitter = float(seconds), float(jitter)
        log.info("sim_tws_delay_set", delay=seconds, jitter=jitter)

    async def drop_connections(self) -> int:
        """Close every client socket (TWS crash / network cut); returns how many."""
        sessions = list(self._sessions)
        for session in sessions:
            session.close()
        log.warning("sim_tws_connections_dropped", count=len(sessions))
        return len(sessions)

    async def refuse_connections(self) -> None:
        """Close the API listener: new connects get ECONNREFUSED."""
        self.faults.refused = True
        await self._sync_listener()

    async def accept_connections(self) -> None:
        self.faults.refused = False
        await self._sync_listener()

    async def set_farm(self, code: int, farm: str) -> None:
        """Push a farm status (2104/2106/2158 OK, 2103/2105/2157 broken) to every client."""
        if int(code) not in FARM_MESSAGES:
            raise ValueError(f"not a farm status code: {code}")
        text = self.faults.set_farm(int(code), farm)
        log.info("sim_tws_farm_status", code=code, farm=farm)
        self._broadcast_error(int(code), text)

    async def announce_farms(self) -> None:
        """Re-send the current status of every farm (IBC RECONNECTDATA)."""
        for code, text in self.faults.farm_codes():
            self._broadcast_error(code, text)

    async def set_connectivity(self, code: int) -> None:
        """Push 1100 (lost), 1101 (restored, data lost) or 1102 (restored, maintained)."""
        code = int(code)
        if code not in CONNECTIVITY_MESSAGES:
            raise ValueError(f"not a connectivity code: {code}")
        self.faults.connectivity = code
        log.info("sim_tws_connectivity", code=code)
        self._broadcast_error(code, CONNECTIVITY_MESSAGES[code])

    async def login_phase(self, seconds: float) -> None:
        """Close the API port for ``seconds`` (TWS logging in)."""
        self.faults.login_until = max(self.faults.login_until, time.monotonic() + float(seconds))
        await self._sync_listener()
        log.info("sim_tws_login_phase", seconds=seconds)
        self._spawn(self._reopen_after(float(seconds)))

    async def _reopen_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        while self.faults.in_login:
            await asyncio.sleep(max(0.01, self.faults.login_until - time.monotonic()))
        await self._sync_listener()

    async def set_offline(self, offline: bool) -> None:
        """TWS not running / not logged in (used by the fake IBC launcher): port closed."""
        self.faults.offline = bool(offline)
        await self._sync_listener()

    async def second_factor_pending(self) -> None:
        """Close the API port until approve_second_factor()."""
        self.faults.second_factor_pending = True
        self.second_factor_approved.clear()
        await self._sync_listener()
        log.info("sim_tws_second_factor_pending")

    async def approve_second_factor(self) -> None:
        self.faults.second_factor_pending = False
        self.second_factor_approved.set()
        log.info("sim_tws_second_factor_approved")
        await self._sync_listener()

    async def restart(self, seconds: float = 1.0) -> None:
        """Warm restart: drop clients, port away for ``seconds``, back without 2FA."""
        await self.drop_connections()
        await self.login_phase(seconds)

    async def trigger_order(self, order_id: int, client_id: int | None = None) -> bool:
        """Force a pending conditional order's conditions to count as met."""
        for rec in self.live_orders():
            if rec.order_id == order_id and (client_id is None or rec.client_id == client_id):
                self._release(rec)
                return True
        return False

    async def status(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "server_version": self.config.server_version,
            "time_scale": self.config.time_scale,
            "limits": self.config.limits,
            "clients": sorted(self._clients),
            "connections": len(self._sessions),
            "orders": len(self.orders),
            "requests": len(self.requests),
            **self.faults.summary(),
        }

    async def apply(self, action: str, args: dict[str, Any]) -> Any:
        """Run a named control action (scenario timeline and control channel)."""
        act = action.lower().replace("-", "_")
        table: dict[str, Any] = {
            "freeze": lambda: self.freeze(),
            "unfreeze": lambda: self.unfreeze(),
            "delay": lambda: self.set_delay(
                float(args.get("seconds", 0)), float(args.get("jitter", 0))
            ),
            "drop": lambda: self.drop_connections(),
            "refuse": lambda: self.refuse_connections(),
            "accept": lambda: self.accept_connections(),
            "farm": lambda: self.set_farm(int(args["code"]), str(args.get("farm", "usfarm"))),
            "farms_ok": lambda: self.announce_farms(),
            "connectivity": lambda: self.set_connectivity(int(args["code"])),
            "login": lambda: self.login_phase(float(args.get("seconds", 1))),
            "second_factor": lambda: self.second_factor_pending(),
            "2fa": lambda: self.second_factor_pending(),
            "approve": lambda: self.approve_second_factor(),
            "restart": lambda: self.restart(float(args.get("seconds", 1))),
            "trigger": lambda: self.trigger_order(int(args["order_id"])),
            "status": lambda: self.status(),
        }
        if act not in table:
            raise ValueError(f"unknown action {action!r}")
        return await table[act]()

    async def _run_timeline(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for step in self.scenario.faults:
            await asyncio.sleep(max(0.0, start + step.at - loop.time()))
            log.info("sim_tws_scenario_step", at=step.at, action=step.action, args=step.args)
            try:
                await self.apply(step.action, step.args)
            except (ValueError, KeyError) as exc:
                log.error("sim_tws_scenario_step_failed", action=step.action, error=str(exc))

    def orders_json(self) -> str:
        return json.dumps([r.summary() for r in self.orders])
