"""Built-in plugin: the ``tws`` service type (TWS / IB Gateway through IBC, or the simulator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

    from traderctl.services.types import ServiceType



@hookimpl
def register_service_types(register: Callable[[ServiceType], None]) -> None:
    from traderctl.tws.servicetype import tws_service_type

    register(tws_service_type())
