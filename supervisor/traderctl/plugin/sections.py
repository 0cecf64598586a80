"""The config sections plugins declare (``register_config``), each with its one owner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traderctl.config.schema import ConfigSection
    from traderctl.plugin.manager import PluginManager


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
