"""Built-in plugin: the ``tws`` service type (TWS / IB Gateway through IBC, or the simulator)."""

from __future__ import annotations

from typing import Any

from traderctl import hookimpl


@hookimpl
def register_service_types(register: Any) -> None:
    from traderctl.tws.servicetype import tws_service_type

    register(tws_service_type())
