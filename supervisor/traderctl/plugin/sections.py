"""The full config schema: the core's sections, ``services`` and every plugin's sections
(``register_config``, each with its one owner), and loading a config with it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from traderctl.config.loader import Config, Override, load_config
from traderctl.config.schema import Field, Path, Section
from traderctl.config.sections import core_sections
from traderctl.plugin.registry import collect_probe_types, collect_service_types

if TYPE_CHECKING:
    from traderctl.config.schema import ConfigSection
    from traderctl.plugin.manager import PluginManager
    from traderctl.services.types import ServiceType


def plugin_sections(pm: PluginManager, taken: Iterable[str] = ()) -> list[ConfigSection]:
    """Every plugin's sections, in the order the plugins were loaded.

    A section whose name is ``taken`` (the core's) or already claimed by a plugin loaded
    earlier is a load failure of the later plugin: it is unregistered and the collection restarts
    without it (in strict mode, or for a built-in, :class:`PluginLoadError` is raised).
    """
    while True:
        owners = dict.fromkeys(taken, "core")
        sections: list[ConfigSection] = []
        for plugin, section in pm.registered("register_config"):
            if section.name in owners:
                pm.fail(plugin, "register_config", ValueError(
                    f"config section {section.name!r} is already owned by "
                    f"{owners[section.name]}"))
                break
            owners[section.name] = plugin
            sections.append(section)
        else:
            return sections


def build_schema(pm: PluginManager) -> Section:
    """The root section: core sections, services, then every plugin's sections."""
    from traderctl.services.spec import services_section

    sections: dict[str, Section | Field] = {s.name: s.section for s in core_sections()}
    for item in plugin_sections(pm, taken=[*sections, "services"]):
        sections[item.name] = item.section
    services = Field(services_section(collect_service_types(pm), collect_probe_types(pm)), {},
                     "Services to supervise, by name.")
    return Section({**sections, "services": services}, doc="traderctl configuration")


def load_with_plugins(pm: PluginManager, path: str | None, env: Mapping[str, str],
                      overrides: list[Override]) -> Config:
    from traderctl.services.spec import check_services

    def finalize(config: Config, report: Callable[[Path, str], None]) -> None:
        check_services(config, report)
        derive_ib_port(config, collect_service_types(pm))

    return load_config(build_schema(pm), path, env, overrides, finalize)


def derive_ib_port(config: Config, types: Mapping[str, ServiceType] | None = None) -> None:
    """``ib.port`` follows the first API service's port unless set explicitly.

    A service type that exposes the TWS API says which port a spec serves
    (``ServiceType.api_port``: the tws type gives ``api_port`` or IB's default for
    its mode and product); without the types, only an explicit ``api_port`` counts.
    """
    if config.origin(("ib", "port")) != "default":
        return
    for name, spec in config.section("services").items():
        if not spec:
            continue
        service_type = (types or {}).get(spec.get("type"))
        if service_type is not None and service_type.api_port is not None:
            port = service_type.api_port(spec)
        else:
            port = spec.get("api_port") if spec.get("type") == "tws" else None
        if port:
            config.data["ib"]["port"] = port
            config.origins[("ib", "port")] = f"derived:services.{name}.api_port"
            return
