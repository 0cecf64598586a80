"""The one factory that builds the plugin manager.

Built-in plugins are registered first, then every entry point of group
``traderctl``, one at a time. A third-party plugin that fails to import,
register or validate is logged and skipped; ``TRADERCTL_STRICT_PLUGINS=1``
turns that into an error, ``TRADERCTL_DISABLE_PLUGINS=a,b`` blocks plugins.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy

from traderctl import PROJECT, hookspecs
from traderctl.logs import get_logger

log = get_logger(__name__)

ENTRY_POINT_GROUP = "traderctl"
BUILTIN_PLUGINS = (
    "traderctl.builtin.core",
    "traderctl.builtin.checks",
    "traderctl.builtin.supervisor",
    "traderctl.builtin.notify",
    "traderctl.builtin.simulator",
    "traderctl.builtin.ibstatus",
    "traderctl.builtin.tws",
    "traderctl.builtin.jobs",
)


class PluginLoadError(RuntimeError):
    """Raised instead of skipping a broken plugin when strict mode is on."""


@dataclass
class PluginRecord:
    name: str
    version: str = ""
    distribution: str = ""
    builtin: bool = False
    error: str = ""
    disabled: bool = False


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus what ``traderctl plugins`` reports."""

    def __init__(self, strict: bool = False) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        self.hook.add_hookspecs.call_historic(kwargs={"pm": self})
        self.strict = strict
        self.records: dict[str, PluginRecord] = {}

    @property
    def load_errors(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.error]

    def fail(self, name: str, stage: str, exc: BaseException) -> None:
        """Record and log a broken plugin, unregister it, or raise in strict mode."""
        record = self.records.setdefault(name, PluginRecord(name))
        record.error = f"{stage}: {type(exc).__name__}: {exc}"
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin)
        log.error("plugin_load_failed", plugin=name, distribution=record.distribution,
                  version=record.version, stage=stage, error=str(exc))
        if self.strict or record.builtin:
            raise PluginLoadError(f"plugin {name!r} failed at {stage}: {exc}") from exc

    def register_checked(self, plugin: Any, record: PluginRecord) -> None:
        self.records[record.name] = record
        try:
            self.register(plugin, name=record.name)
            self.check_pending()
        except Exception as exc:  # pluggy raises PluginValidationError; be broad
            self.fail(record.name, "register", exc)

    def hook_impls(self, hook_name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
        for impl in getattr(self.hook, hook_name).get_hookimpls():
            yield impl.plugin_name, impl.function

    def call_each(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a registration hook one plugin at a time, isolating failures."""
        results = []
        for name, func in list(self.hook_impls(hook_name)):
            try:
                result = func(**kwargs)
            except Exception as exc:
                self.fail(name, hook_name, exc)
                continue
            if result is not None:
                results.append(result)
        return results

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call an observer hook (``on_event``); failures are logged, never raised."""
        for name, func in list(self.hook_impls(hook_name)):
            try:
                func(**kwargs)
            except Exception as exc:
                log.error("plugin_hook_failed", plugin=name, hook=hook_name, error=str(exc))

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.get_plugin(name)
        if plugin is None:
            return []
        return sorted(c.name for c in (self.get_hookcallers(plugin) or []))


def build_plugin_manager(
    env: Mapping[str, str] | None = None,
    builtins: tuple[str, ...] = BUILTIN_PLUGINS,
    entry_points: bool = True,
    extra: tuple[Any, ...] = (),
) -> PluginManager:
    """A fresh manager: built-ins, then ``extra`` (tests), then entry points."""
    env = os.environ if env is None else env
    pm = PluginManager(strict=env.get("TRADERCTL_STRICT_PLUGINS", "") in ("1", "true", "yes"))
    disabled = {n.strip() for n in env.get("TRADERCTL_DISABLE_PLUGINS", "").split(",") if n}
    for module_name in builtins:
        name = module_name.rsplit(".", 1)[-1]
        record = PluginRecord(name, _own_version(), PROJECT, builtin=True)
        if name in disabled:
            record.disabled = True
            pm.records[name] = record
            continue
        pm.register_checked(importlib.import_module(module_name), record)
    for plugin in extra:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        pm.register_checked(plugin, PluginRecord(name))
    if entry_points:
        _load_entry_points(pm, disabled)
    return pm


def _load_entry_points(pm: PluginManager, disabled: set[str]) -> None:
    from traderctl.entrypoints import discover

    seen: set[str] = set()
    for ep in discover(ENTRY_POINT_GROUP):
        if ep.name in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(ep.name)
        record = PluginRecord(ep.name, ep.version, ep.distribution)
        if ep.name in disabled:
            record.disabled = True
            pm.records[ep.name] = record
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time error of a third-party module
            pm.records[ep.name] = record
            pm.fail(ep.name, "import", exc)
            continue
        pm.register_checked(plugin, record)


def _own_version() -> str:
    from traderctl import __version__

    return __version__


def module_plugin(name: str, **hooks: Callable[..., Any]) -> ModuleType:
    """A plugin object made of loose functions (handy for tests and small scripts)."""
    module = ModuleType(name)
    for hook_name, func in hooks.items():
        setattr(module, hook_name, pluggy.HookimplMarker(PROJECT)(func))
    return module
