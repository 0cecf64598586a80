"""SimTWS: the simulated TWS / IB Gateway, assembled from its parts.

The listener and client connections live in :mod:`.listener`, the fault
switches in :mod:`.switches`, orders in :mod:`.orderbook`; this module holds
the settings (:class:`SimConfig`), the shared state the sessions read (universe,
account, price models, pacing) and the named control actions.

All control methods are coroutines to be awaited on the simulator's own
event loop; :class:`traderctl.simulator.threaded.SimTWSThread` wraps them for
synchronous callers (pytest), and :mod:`traderctl.simulator.control` exposes
them as a line protocol for a simulator running in another process.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import account
from ._log import get_logger
from .account import AccountBook
from .bars import PriceModel
from .clock import DEFAULT_TWS_ZONE, valid_zone, zone
from .faults import FaultState
from .instruments import derivatives
from .livebars import LiveBars
from .market import Market
from .mktdata import MarketDataFeed
from .orderbook import OrderBook
from .orders import OrderRecord
from .pacing import HistoricalPacer
from .pnl import PnLFeed
from .protocol import MAX_SERVER_VERSION
from .scenario import Scenario, load_scenario
from .session import ClientSession, RequestRecord
from .switches import FaultSwitches
from .synthetic import synthetic_listings
from .universe import Listing, Universe

log = get_logger(__name__)

MIN_SERVER_VERSION = 176


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
def _load_universe(path: str, mtime: float, today: date, size: int) -> Universe:
    base = Universe.load(path)
    full = base.extended(derivatives(tuple(base.listings), today))
    return full.extended(synthetic_listings(full, size)) if size else full


def load_universe(path: str | None, size: int | None = None) -> Universe:
    """Universe file, today's futures and options, synthetic stocks up to ``size``.

    Cached per file, modification time, day and size (fixtures start often).
    """
    from .universe import DEFAULT_UNIVERSE

    target = str(
        Path(path or os.environ.get("TRADERCTL_SIM_UNIVERSE") or DEFAULT_UNIVERSE).resolve()
    )
    wanted = int(size or os.environ.get("TRADERCTL_SIM_UNIVERSE_SIZE") or 0)
    today = datetime.now(UTC).date()
    return _load_universe(target, Path(target).stat().st_mtime, today, wanted)


class SimTWS(FaultSwitches):
    """A TWS/Gateway look-alike on a TCP port, driven by ib_async or any TWS API client."""

    def __init__(self, config: SimConfig | None = None, **kwargs: Any) -> None:
        base = config or SimConfig(**kwargs)
        self.config, self.scenario = base.resolve()
        super().__init__(self.config.host, self.config.port, FaultState())
        # resolve() filled these in; typed copies for the sessions
        self.server_version = int(self.config.server_version or MAX_SERVER_VERSION)
        self.time_scale = float(self.config.time_scale or 1.0)
        self.limits = bool(self.config.limits)
        self.tz = str(self.config.timezone or DEFAULT_TWS_ZONE)
        self.universe = load_universe(
            self.config.universe_path, int(self.scenario.universe.get("size") or 0)
        )
        self.book = AccountBook(self.scenario, self.universe)
        self.pacer = HistoricalPacer(self.time_scale, self.limits)
        for farm, ok in self.scenario.farms.items():
            kind = self.faults.farms.get(farm, ("market", True))[0]
            self.faults.farms[farm] = (kind, ok)
        self.faults.second_factor_pending = self.config.second_factor
        self.requests: deque[RequestRecord] = deque(maxlen=20_000)
        self.second_factor_approved = asyncio.Event()
        self._models: dict[int, PriceModel] = {}
        self.market = Market.from_scenario(self.model, self.scenario.market)
        self.book.price_of = self.last_price
        self.order_book = OrderBook(
            self.universe, self.book, self.market, self.client, self.tz, self.scenario.next_order_id
        )
        self.order_book.publish_account = self.publish_account
        self.feed = MarketDataFeed(self.market)
        self.live = LiveBars(self.market)
        self.pnl = PnLFeed(max(self.market.interval * 4, 0.2))
        self._control: Any = None

    def new_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> ClientSession:
        return ClientSession(self, reader, writer)

    # ---- lifecycle ----------------------------------------------------------------

    async def start(self) -> SimTWS:
        """Bind the API port (listening only if no phase keeps it closed)."""
        if self.config.login_seconds:
            self.faults.login_until = time.monotonic() + self.config.login_seconds
            self.spawn(self.reopen_after(self.config.login_seconds))
        await self.bind()
        log.info(
            "sim_tws_listening",
            host=self.host,
            port=self.port,
            server_version=self.server_version,
            time_scale=self.time_scale,
            limits=self.limits,
            timezone=self.tz,
            port_open=self.faults.port_open,
            contracts=len(self.universe.listings),
        )
        if self.config.control_port is not None:
            from .control import ControlServer

            self._control = ControlServer(self, self.config.control_port)
            await self._control.start()
        if self.scenario.faults:
            self.spawn(self._run_timeline())
        self.spawn(self.order_book.watch_conditions())
        self.spawn(self.feed.run())
        self.spawn(self.live.run())
        self.spawn(self.order_book.matcher.run())
        self.spawn(self.pnl.run(self.refresh_account_values))
        return self

    async def stop(self) -> None:
        """Close the port and every connection; cancel and await all tasks."""
        if self._control is not None:
            await self._control.stop()
            self._control = None
        await self.close_all()
        log.info("sim_tws_stopped", port=self.port)

    async def __aenter__(self) -> SimTWS:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- what the sessions ask for ---------------------------------------------------

    def record(self, rec: RequestRecord) -> None:
        self.requests.append(rec)

    def model(self, listing: Listing) -> PriceModel:
        model = self._models.get(listing.con_id)
        if model is None:
            model = self._models[listing.con_id] = PriceModel.for_listing(listing)
        return model

    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    def now_ts(self) -> float:
        return time.time()

    def last_price(self, listing: Listing) -> float:
        """The simulated last price of ``listing`` now."""
        return self.market.price(listing, time.time())

    def publish_account(self, account_code: str, listing: Listing) -> None:
        """After a fill: position, portfolio row and account values to subscribers."""
        pos = next(
            (
                p
                for p in self.book.positions
                if p.account == account_code and p.listing.con_id == listing.con_id
            ),
            None,
        )
        if pos is None:
            return
        for session in self.sessions:
            if not session.ready:
                continue
            if session.positions_subscribed:
                session.send(account.position_row(pos))
            if session.account_updates == account_code:
                session.send(account.portfolio_row(pos, self.last_price(listing)))

    def refresh_account_values(self) -> None:
        """Changed account values to reqAccountUpdates subscribers (TWS batches them too)."""
        values = None
        for session in self.sessions:
            code = session.account_updates
            if not session.ready or code is None:
                continue
            values = values or self.book.all_values()
            for key, (value, cur) in values.items():
                if session.account_values_sent.get(key) != value:
                    session.account_values_sent[key] = value
                    session.send([6, 2, key, value, cur, code])

    def head_timestamp(self, listing: Listing) -> datetime:
        """Earliest data point: fixed 20 years before 2026-01-01 at the first session."""
        start = datetime(2006, 1, 3, tzinfo=UTC)
        sessions = listing.calendar.sessions_between(start, start + timedelta(days=7), rth=False)
        return sessions[0].open if sessions else start

    @property
    def next_order_id(self) -> int:
        return self.order_book.next_order_id

    # ---- orders (the order book does the work) -----------------------------------------

    @property
    def orders(self) -> list[OrderRecord]:
        return self.order_book.orders

    def live_orders(self) -> list[OrderRecord]:
        return self.order_book.live()

    def open_order_fields(
        self, rec: OrderRecord, version: int, what_if: dict[str, str] | None = None
    ) -> list[Any]:
        return self.order_book.open_order_fields(rec, version, what_if)

    def place_order(self, session: ClientSession, fields: list[str]) -> None:
        self.order_book.place(session, fields)

    def cancel_order(
        self, session: ClientSession, order_id: int, client_id: int | None = None
    ) -> None:
        self.order_book.cancel(session, order_id, client_id)

    async def trigger_order(self, order_id: int, client_id: int | None = None) -> bool:
        """Force a pending conditional order's conditions to count as met."""
        rec = self.order_book.find(order_id, client_id)
        if rec is None:
            return False
        self.order_book.release(rec)
        return True

    def orders_json(self) -> str:
        return json.dumps([r.summary() for r in self.orders])

    # ---- control surface ------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "server_version": self.server_version,
            "time_scale": self.time_scale,
            "limits": self.limits,
            "clients": self.client_ids,
            "connections": len(self.sessions),
            "orders": len(self.orders),
            "requests": len(self.requests),
            **self.faults.summary(),
        }

    async def apply(self, action: str, args: dict[str, Any]) -> Any:
        """Run a named control action (scenario timeline and control channel)."""
        act = action.lower().replace("-", "_")
        if act == "trigger":
            return await self.trigger_order(int(args["order_id"]))
        if act == "status":
            return await self.status()
        if act in ("price", "gap", "halt", "resume", "volume"):
            return self.move_market(act, args)
        try:
            run = self.fault_action(act, args)
        except KeyError:
            raise ValueError(f"unknown action {action!r}") from None
        return await run()

    def move_market(self, act: str, args: dict[str, Any]) -> dict[str, Any]:
        """PRICE / GAP / HALT / RESUME / VOLUME one listing; returns its last price and volume."""
        listing = self.universe.lookup(str(args["symbol"]))
        now = time.time()
        if act == "volume":
            self.market.add_volume(listing, float(args["shares"]), now)
        elif act == "price":
            self.market.set_price(listing, float(args["price"]), now)
        elif act == "gap":
            self.market.gap(listing, float(args["percent"]))
        elif act == "halt":
            self.market.halt(listing, now)
        else:
            self.market.resume(listing, now)
        price = self.market.price(listing, now)
        log.info("sim_tws_market_moved", action=act, con_id=listing.con_id, price=price)
        return {
            "conId": listing.con_id,
            "last": price,
            "volume": self.market.quote(listing, now).volume,
            "halted": self.market.halted(listing),
        }

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
