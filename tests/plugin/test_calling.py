"""Hooks are called the way pluggy promises: order, argument subsets, firstresult, and hook
wrappers refused; plus per-plugin failure isolation, which plain pluggy does not give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fake_distribution
from traderctl import hookimpl, hookspec
from traderctl.events import Event
from traderctl.plugin.manager import PluginManager, module_plugin

EVENT = Event("audit", {"what": "x"})


def recorder(name: str, seen: list[str], **opts: Any) -> object:
    """A plugin whose on_event appends its name; ``opts`` go to ``@hookimpl``."""
    class Plugin:
        @hookimpl(**opts)
        def on_event(self, event: Event) -> None:
            seen.append(name)
    Plugin.__name__ = name
    return Plugin()


def test_order_is_pluggys_tryfirst_then_lifo_then_trylast(make_pm) -> None:
    seen: list[str] = []
    pm = make_pm(recorder("last", seen, trylast=True), recorder("a", seen),
                 recorder("first", seen, tryfirst=True), recorder("b", seen))
    pm.notify("on_event", event=EVENT)
    ours = list(seen)
    seen.clear()
    pm.hook.on_event(event=EVENT)
    assert ours == seen == ["first", "b", "a", "last"]


def test_an_implementation_may_take_fewer_arguments_than_the_spec(make_pm) -> None:
    seen: list[str] = []
    pm = make_pm(module_plugin("bare", on_event=lambda: seen.append("bare")))
    pm.notify("on_event", event=EVENT)
    assert seen == ["bare"]
    assert not pm.load_errors


def test_a_call_missing_a_spec_argument_is_the_callers_error(make_pm) -> None:
    import pluggy

    pm = make_pm()
    with pytest.raises(pluggy.HookCallError):
        pm.notify("on_event")


@pytest.mark.parametrize("opts", [{"wrapper": True}, {"hookwrapper": True}])
def test_hook_wrappers_are_refused_at_registration(make_pm, opts: dict[str, bool]) -> None:
    class Wrapping:
        @hookimpl(**opts)
        def on_event(self, event: Event) -> Any:
            return (yield)

    pm = make_pm(Wrapping())
    error = pm.records["Wrapping"].error
    assert "hook wrappers are not supported (on_event)" in error
    assert pm.get_plugin("Wrapping") is None


class LookupSpec:
    @hookspec(firstresult=True)
    def lookup(self, key: str) -> str | None:
        """A plugin-added firstresult hook, as a plugin would add one."""


def test_firstresult_stops_at_the_first_answer(make_pm) -> None:
    called: list[str] = []

    def answer(name: str, value: str | None) -> Callable[[str], str | None]:
        def lookup(key: str) -> str | None:
            called.append(name)
            return value
        return lookup

    spec_owner = module_plugin("owner", add_hookspecs=lambda pm: pm.add_hookspecs(LookupSpec))
    pm = make_pm(spec_owner, module_plugin("late", lookup=answer("late", "L")),
                 module_plugin("middle", lookup=answer("middle", "M")),
                 module_plugin("silent", lookup=answer("silent", None)))
    assert pm.call_each("lookup", key="k") == ["M"]
    assert called == ["silent", "middle"]
    assert pm.hook.lookup(key="k") == "M"


def test_a_plugin_may_implement_hooks_of_a_plugin_loaded_after_it(make_pm) -> None:
    user = module_plugin("user", lookup=lambda key: key.upper())
    owner = module_plugin("owner", add_hookspecs=lambda pm: pm.add_hookspecs(LookupSpec))
    pm = make_pm(user, owner)
    assert not pm.load_errors
    assert pm.call_each("lookup", key="k") == ["K"]


def test_a_plugin_whose_add_hookspecs_raises_fails_alone(make_pm) -> None:
    def broken(pm: PluginManager) -> None:
        raise ImportError("no spec module")

    pm = make_pm(module_plugin("broken", add_hookspecs=broken))
    assert "register: ImportError: no spec module" == pm.records["broken"].error
    assert pm.get_plugin("broken") is None and pm.get_plugin("core") is not None


def test_a_raising_observer_does_not_stop_the_others(make_pm) -> None:
    seen: list[str] = []

    def boom(event: Event) -> None:
        raise RuntimeError("observer bug")

    pm = make_pm(recorder("a", seen), module_plugin("bad", on_event=boom), recorder("b", seen))
    pm.notify("on_event", event=EVENT)
    assert seen == ["b", "a"]
    assert pm.get_plugin("bad") is not None  # an observer failure is not a load failure


def test_registrations_are_collected_once_and_a_failure_drops_only_its_plugin(make_pm) -> None:
    calls: list[str] = []

    def types(name: str, fail: bool = False) -> Callable[[Callable[[Any], None]], None]:
        from traderctl.services.types import ServiceType

        def register_service_types(register: Callable[[Any], None]) -> None:
            calls.append(name)
            register(ServiceType(name))
            if fail:
                raise ValueError("half-registered")
        return register_service_types

    pm: PluginManager = make_pm(module_plugin("one", register_service_types=types("one")),
                                module_plugin("two", register_service_types=types("two", True)))
    first = pm.registered("register_service_types")
    assert [item.name for _, item in first if item.name in ("one", "two")] == ["one"]
    assert "half-registered" in pm.records["two"].error
    calls.clear()
    assert pm.registered("register_service_types") is first
    assert calls == []


def test_a_plugin_loaded_later_cannot_replace_or_break_a_builtin(make_pm) -> None:
    from traderctl.config import ConfigSection, Section
    from traderctl.plugin.registry import collect_service_types
    from traderctl.plugin.sections import build_schema
    from traderctl.services.types import ServiceType

    impostor = module_plugin(
        "impostor",
        register_service_types=lambda register: register(ServiceType("process", doc="fake")),
        register_config=lambda register: register(ConfigSection("checks", Section({}))))
    pm = make_pm(impostor)
    assert collect_service_types(pm)["process"].doc == "A long-running command."
    assert "timeout" in build_schema(pm).fields["checks"].fields  # the built-in's section
    assert "already owned by checks" in pm.records["impostor"].error


COUNTING = """
import os
from traderctl import hookimpl

def count(hook):
    with open(os.environ["COUNT_FILE"], "a") as fh:
        fh.write(hook + "\\n")

@hookimpl
def register_service_types(register):
    count("register_service_types")

@hookimpl
def register_probes(register):
    count("register_probes")

@hookimpl
def register_config(register):
    count("register_config")
"""


def test_supervise_collects_each_registration_hook_once(daemon, tmp_path: Path) -> None:
    import os

    site = fake_distribution(tmp_path / "site", "counting", COUNTING)
    counts = tmp_path / "counts.txt"
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "COUNT_FILE": str(counts), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    d = daemon("idle: {command: [sleep, '30'], autostart: false}\n", env=env)
    served = counts.read_text().split()
    d.client.call("reload")
    assert sorted(served) == ["register_config", "register_probes", "register_service_types"]
    assert sorted(counts.read_text().split()) == sorted(served)  # a reload collects nothing
