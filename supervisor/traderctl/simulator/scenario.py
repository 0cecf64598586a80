"""Scenario files: account state, executions and a timeline of faults.

JSON or YAML (PyYAML is imported only when a .yaml/.yml file is loaded).
Every key is optional::

    accounts: [DU123456]            # managed accounts (at least one)
    next_order_id: 1
    server_version: 178             # 176..178
    timezone: US/Eastern            # TWS login zone
    time_scale: 1.0                 # shrinks IB's limit windows
    limits: true                    # pacing + 50 msg/s + max duration
    account_values: {NetLiquidation: "1000000", Cushion: "0.95"}
    positions:
      - {symbol: AAPL, currency: USD, position: 100, avgCost: 150.25}
    executions:
      - {symbol: AAPL, side: BOT, shares: 100, price: 150.25,
         time: "2026-01-05T15:30:00Z", commission: 1.0}
    farms: {usfarm: true, ushmds: true, secdefil: true}
    faults:                         # seconds after start -> control action
      - {at: 0, action: login, seconds: 2}
      - {at: 5, action: farm, code: 2103, farm: usfarm}
      - {at: 8, action: freeze}
      - {at: 9, action: unfreeze}
    market:                         # live data and fills, see market.py / matching.py
      interval: 0.25                # seconds between streamed tick updates
      always_open: false            # ignore trading hours for live data and fills
      depth: 1000000                # shares at the touch per fill (partial fills below)
      unsubscribed: [ASX, MSFT]     # symbols/exchanges without a data subscription (354)
      no_api: [TSLA]                # subscribed in TWS but not for the API (10089)
    universe: {size: 5000}          # synthesize stocks up to this many listings (synthetic.py)
    ibc: {...}                      # fake IBC launcher only, see fake_ibc.py

Fault actions (same names as the control channel commands, lower case):
freeze, unfreeze, delay {seconds, jitter}, drop, refuse, accept,
farm {code, farm}, connectivity {code}, login {seconds}, second_factor,
approve, restart {seconds}, price {symbol, price}, gap {symbol, percent},
volume {symbol, shares}, halt {symbol}, resume {symbol}.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNT = "DU123456"


@dataclass(frozen=True)
class FaultStep:
    at: float
    action: str
    args: dict[str, Any]


@dataclass
class Scenario:
    accounts: list[str] = field(default_factory=lambda: [DEFAULT_ACCOUNT])
    next_order_id: int = 1
    server_version: int | None = None
    timezone: str | None = None
    time_scale: float | None = None
    limits: bool | None = None
    account_values: dict[str, str] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)
    farms: dict[str, bool] = field(default_factory=dict)
    faults: list[FaultStep] = field(default_factory=list)
    ibc: dict[str, Any] = field(default_factory=dict)
    market: dict[str, Any] = field(default_factory=dict)
    universe: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Scenario:
        raw = dict(raw or {})
        accounts = raw.get("accounts") or [DEFAULT_ACCOUNT]
        if isinstance(accounts, str):
            accounts = [a for a in accounts.split(",") if a]
        faults = [
            FaultStep(
                float(f.get("at", 0)),
                str(f["action"]).lower(),
                {k: v for k, v in f.items() if k not in ("at", "action")},
            )
            for f in raw.get("faults") or []
        ]
        return cls(
            accounts=list(accounts),
            next_order_id=int(raw.get("next_order_id", 1)),
            server_version=raw.get("server_version"),
            timezone=raw.get("timezone"),
            time_scale=raw.get("time_scale"),
            limits=raw.get("limits"),
            account_values={str(k): str(v) for k, v in (raw.get("account_values") or {}).items()},
            positions=list(raw.get("positions") or []),
            executions=list(raw.get("executions") or []),
            farms={str(k): bool(v) for k, v in (raw.get("farms") or {}).items()},
            faults=sorted(faults, key=lambda s: s.at),
            ibc=dict(raw.get("ibc") or {}),
            market=dict(raw.get("market") or {}),
            universe=dict(raw.get("universe") or {}),
        )


def load_raw(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON or YAML scenario file into a dict."""
    target = Path(path)
    text = target.read_text()
    if target.suffix.lower() in (".yaml", ".yml"):
        import yaml  # lazy: the simulator core is stdlib-only

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"scenario {target} must be a mapping")
    return data


def load_scenario(path: str | os.PathLike[str] | None) -> Scenario:
    """Scenario from a file, or the defaults when no path is given."""
    if not path:
        return Scenario()
    return Scenario.from_dict(load_raw(path))
