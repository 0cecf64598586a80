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
from typing import Any, Protocol, TypeVar

import pluggy

from traderctl import PROJECT
from traderctl.logs import get_logger
from traderctl.plugin import spec as hookspecs


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)

log = get_logger(__name__)

ENTRY_POINT_GROUP = "traderctl"
#: Built-in plugins by name (what ``traderctl plugins`` shows), registered in this order. A
#: feature with a package of its own keeps its plugin there (``checks/plugin.py``).
BUILTIN_PLUGINS: dict[str, str] = {
    "core": "traderctl.builtin.core",
    "checks": "traderctl.checks.plugin",
    "supervisor": "traderctl.builtin.supervisor",
    "notify": "traderctl.notify.plugin",
    "simulator": "traderctl.builtin.simulator",
    "ibstatus": "traderctl.builtin.ibstatus",
    "tws": "traderctl.builtin.tws",
    "jobs": "traderctl.builtin.jobs",
}


@dataclass(frozen=True)
class Outcome:
    """One implementation's answer to a hook call: its value, or the exception it raised."""

    plugin: str
    value: Any = None
    error: Exception | None = None


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
    """pluggy's manager plus what ``traderctl plugins`` reports, and hook calls that isolate
    a broken plugin.

    :meth:`call_each` and :meth:`notify` are one loop over pluggy's own ordered
    implementations (``tryfirst`` first, ``trylast`` last, otherwise last registered first),
    passing each only the arguments it names, as ``pm.hook.<name>(...)`` would; unlike it,
    one plugin's exception does not stop the others. Hook wrappers cannot be honoured by
    such a loop, so a plugin declaring one is refused at registration.
    """

    def __init__(self, strict: bool = False) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        self.strict = strict
        self.records: dict[str, PluginRecord] = {}
        self._registered: dict[str, list[tuple[str, Any]]] = {}
        # Historic: every plugin registered later gets it too, as it is registered.
        self.hook.add_hookspecs.call_historic(kwargs={"pm": self})

    @property
    def load_errors(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.error]

    def register(self, plugin: object, name: str | None = None) -> str | None:
        plugin_name = super().register(plugin, name)
        self._registered.clear()
        wrappers = [impl for caller in self.get_hookcallers(plugin) or []
                    for impl in caller.get_hookimpls()
                    if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)]
        if wrappers:
            super().unregister(plugin)
            names = ", ".join(sorted({w.function.__name__ for w in wrappers}))
            raise pluggy.PluginValidationError(
                plugin, f"hook wrappers are not supported ({names}): traderctl calls each "
                "implementation on its own so that one broken plugin cannot stop the others")
        return plugin_name

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        self._registered.clear()
        return super().unregister(plugin, name)

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
        except Exception as exc:  # pluggy raises PluginValidationError; be broad
            self.fail(record.name, "register", exc)

    def fail_unknown_hooks(self) -> None:
        """Fail each plugin implementing a hook that no plugin declared (a typo, or a hook of
        a plugin that is not installed). Run once all are registered, so that a plugin may
        implement hooks of a plugin loaded after it."""
        for caller in list(self.hook.__dict__.values()):
            if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if not impl.optionalhook and self.get_plugin(impl.plugin_name) is not None:
                    self.fail(impl.plugin_name, "register", pluggy.PluginValidationError(
                        impl.plugin, f"unknown hook {caller.name!r} in plugin "
                        f"{impl.plugin_name!r}"))

    def outcomes(self, hook_name: str, /, **kwargs: Any) -> Iterator[Outcome]:
        """Call every implementation of a hook in pluggy's order; yield each one's result or
        exception. A hook whose spec says ``firstresult`` stops at the first non-None result;
        a hook nobody declared (its plugin is disabled) has no implementations.
        """
        caller: pluggy.HookCaller | None = getattr(self.hook, hook_name, None)
        if caller is None:  # a hook whose plugin is disabled or failed: nobody implements it
            return
        spec = caller.spec
        missing = [a for a in (spec.argnames if spec else ()) if a not in kwargs]
        if missing:
            raise pluggy.HookCallError(f"hook {hook_name!r} called without {missing}")
        first = bool(spec and spec.opts.get("firstresult"))
        for impl in reversed(caller.get_hookimpls()):
            try:
                value = impl.function(*(kwargs[a] for a in impl.argnames))
            except Exception as exc:
                yield Outcome(impl.plugin_name, error=exc)
                continue
            yield Outcome(impl.plugin_name, value)
            if first and value is not None:
                return

    def call_each(self, hook_name: str, /, **kwargs: Any) -> list[Any]:
        """Call a registration hook; a plugin that raises is a load failure (:meth:`fail`).
        Returns the non-None results, like ``pm.hook.<name>(...)``."""
        results = []
        for outcome in self.outcomes(hook_name, **kwargs):
            if outcome.error is not None:
                self.fail(outcome.plugin, hook_name, outcome.error)
            elif outcome.value is not None:
                results.append(outcome.value)
        return results

    def notify(self, hook_name: str, /, **kwargs: Any) -> None:
        """Call an observer hook (``on_event``); failures are logged, never raised."""
        for outcome in self.outcomes(hook_name, **kwargs):
            if outcome.error is not None:
                log.error("plugin_hook_failed", plugin=outcome.plugin, hook=hook_name,
                          error=str(outcome.error))

    def registered(self, hook_name: str) -> list[tuple[str, Any]]:
        """What plugins pass to ``register`` in a ``register_*`` hook, as (plugin, item).

        The implementations are called in pluggy's order, but the items are listed in the
        order the plugins were loaded (built-ins first), so that where two plugins register
        the same name, the one loaded earlier keeps it: a third-party plugin cannot replace
        or break a built-in. Collected once per manager and cached until a plugin is
        registered or unregistered (a failing one is: see :meth:`fail`).
        """
        if hook_name not in self._registered:
            found: list[tuple[str, Any]] = []
            collecting: list[Any] = []
            for outcome in self.outcomes(hook_name, register=collecting.append):
                items, collecting[:] = list(collecting), []
                if outcome.error is not None:
                    self.fail(outcome.plugin, hook_name, outcome.error)
                    return self.registered(hook_name)  # the cache was cleared: start over
                found.extend((outcome.plugin, item) for item in items)
            loaded = {name: i for i, name in enumerate(self.records)}
            found.sort(key=lambda pair: loaded.get(pair[0], len(loaded)))
            self._registered[hook_name] = found
        return self._registered[hook_name]

    def registered_by_name(self, hook_name: str, kind: type[T]) -> dict[str, T]:
        """``registered`` items of ``kind`` keyed by their ``name``; a plugin registering
        something else, or a name already taken, fails alone (the one loaded later loses)."""
        while True:
            found: dict[str, T] = {}
            for plugin, item in self.registered(hook_name):
                problem = _registration_problem(item, kind, found)
                if problem is not None:
                    self.fail(plugin, hook_name, problem)
                    break  # the plugin is gone: collect again without it
                found[item.name] = item
            else:
                return found

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.get_plugin(name)
        if plugin is None:
            return []
        return sorted(c.name for c in (self.get_hookcallers(plugin) or []))


def build_plugin_manager(
    env: Mapping[str, str] | None = None,
    builtins: Mapping[str, str] = BUILTIN_PLUGINS,
    entry_points: bool = True,
    extra: tuple[Any, ...] = (),
) -> PluginManager:
    """A fresh manager: built-ins, then ``extra`` (tests), then entry points."""
    env = os.environ if env is None else env
    pm = PluginManager(strict=env.get("TRADERCTL_STRICT_PLUGINS", "") in ("1", "true", "yes"))
    disabled = {n.strip() for n in env.get("TRADERCTL_DISABLE_PLUGINS", "").split(",") if n}
    for name, module_name in builtins.items():
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
    pm.fail_unknown_hooks()
    return pm


def _load_entry_points(pm: PluginManager, disabled: set[str]) -> None:
    from traderctl.plugin.entrypoints import discover

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


def _registration_problem(item: Any, kind: type[Named], found: Mapping[str, Any]
                          ) -> Exception | None:
    if not isinstance(item, kind):
        return TypeError(f"register() takes a {kind.__name__}, got {type(item).__name__}")
    if item.name in found:
        return ValueError(f"{kind.__name__} {item.name!r} is registered twice")
    return None
