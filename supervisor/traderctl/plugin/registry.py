"""What plugins registered, by name: the service types and the probe kinds.

Both are collected once per plugin manager (:meth:`PluginManager.registered`); the
first registration of a name wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traderctl.plugin.manager import PluginManager
    from traderctl.services.probes import ProbeType
    from traderctl.services.types import ServiceType


def collect_service_types(pm: PluginManager) -> dict[str, ServiceType]:
    """Every plugin's ServiceTypes by name (the first registration of a name wins)."""
    found: dict[str, ServiceType] = {}
    for _plugin, item in pm.registered("register_service_types"):
        found.setdefault(item.name, item)
    return found


def collect_probe_types(pm: PluginManager) -> dict[str, ProbeType]:
    """Every plugin's ProbeTypes by name (the first registration of a name wins)."""
    found: dict[str, ProbeType] = {}
    for _plugin, item in pm.registered("register_probes"):
        found.setdefault(item.name, item)
    return found
