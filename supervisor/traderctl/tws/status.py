"""What a tws service shows: its one-line detail and its ``status`` fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traderctl.tws.login import ACCEPTING, LoginTracker
from traderctl.tws.outages import Outages
from traderctl.tws.session import SessionObserver

if TYPE_CHECKING:
    from traderctl.tws.driver import TwsDriver


def session_detail(login: LoginTracker, outages: Outages,
                   observer: SessionObserver | None) -> str:
    """``second factor pending on IB Key``, ``api accepting; data farms ok``, ..."""
    if login.waiting():
        return login.detail()
    if (restart := outages.announced()) is not None:
        return f"{restart} in progress"
    if login.phase != ACCEPTING:
        return login.phase
    parts = [ACCEPTING]
    if observer is not None and observer.connected:
        broken = observer.broken_farms()
        parts.append("data farm " + ", ".join(f.name for f in broken) + " broken"
                     if broken else "data farms ok")
        if not observer.connectivity.ok:
            parts.append(f"IB connectivity lost ({observer.connectivity.code})")
    outage = outages.active()
    if outage is not None:
        parts.append(f"in {outage.describe()}")
    return "; ".join(parts)


def status_fields(driver: TwsDriver) -> dict[str, Any]:
    """The ``tws`` part of the service's entry in ``traderctl status --json``."""
    launch, outages = driver.launch, driver.outages
    outage = outages.active()
    return {
        "mode": launch.mode, "gateway": bool(driver.spec["gateway"]),
        "api_port": launch.port, "command_server_port": launch.command_port or None,
        "session": driver.login.phase, "api": driver.probe.kind,
        **_session_status(driver.observer, outages),
        **driver.login.status(),
        "ibc_restart": outages.announced(),
        "cold_restart_at": outages.cold_restart_at,
        "ibc_version": driver.ibc_version,
        "reset_window": outage.window.name if outage else None,
        "ini": launch.ini_path if driver.ini_written else None,
        "tws_settings_path": None if driver.simulated else launch.paths()[2],
        "last_remedy": driver.remedies.last,
    }


def _session_status(obs: SessionObserver | None, outages: Outages) -> dict[str, Any]:
    tz = outages.timezone
    zone = tz.to_json() if tz else {
        "timezone": None, "utc_offset": None, "reported": None, "source": None}
    if obs is None or not obs.connected:
        return {"farms": {}, "connectivity": None, **zone,
                "server_version": obs.server_version if obs else None}
    return {"farms": {f.name: "ok" if f.ok else "broken" for f in obs.farms.values()},
            "connectivity": "ok" if obs.connectivity.ok else f"lost ({obs.connectivity.code})",
            **zone, "server_version": obs.server_version}
