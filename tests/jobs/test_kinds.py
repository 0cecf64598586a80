"""Job kinds come from plugins through ``register_job_kinds``, a hook the built-in jobs
plugin adds with ``pm.add_hookspecs``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import fake_distribution
from traderctl.jobs import JobKind, Verdict
from traderctl.jobs.kinds import collect_kinds
from traderctl.plugins import PluginManager, module_plugin


async def handler(job: Any, ctx: Any) -> None:
    return None


def test_a_plugin_module_registers_kinds(make_pm: Callable[..., PluginManager]) -> None:
    plugin = module_plugin("p", register_job_kinds=lambda register: register(
        JobKind("p.fetch", handler, profile="ib_historical_small",
                classify=lambda exc: Verdict.RETRY if isinstance(exc, KeyError) else None)))
    kinds = collect_kinds(make_pm(plugin))
    assert list(kinds) == ["p.fetch"]
    assert kinds["p.fetch"].verdict(KeyError("x")) is Verdict.RETRY       # its own classifier
    assert kinds["p.fetch"].verdict(TimeoutError()) is Verdict.OUTAGE     # else the engine's


def test_an_entry_point_plugin_implementing_the_added_hook_loads(
        make_pm: Callable[..., PluginManager], tmp_path: Path,
        monkeypatch: Any) -> None:
    source = ("from traderctl import hookimpl\nfrom traderctl.jobs import JobKind\n"
              "async def run(job, ctx):\n    return 1\n"
              "@hookimpl\ndef register_job_kinds(register):\n"
              "    register(JobKind('ep.kind', run))\n")
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path / "site", "traderctl-ep",
                                                       source)))
    pm = make_pm(entry_points=True, env={"TRADERCTL_STRICT_PLUGINS": "1"})
    assert not pm.load_errors
    assert "ep.kind" in collect_kinds(pm)


def test_a_duplicate_kind_fails_only_the_second_plugin(
        make_pm: Callable[..., PluginManager]) -> None:
    def kinds_of(name: str) -> Any:
        return module_plugin(name, register_job_kinds=lambda register: register(
            JobKind("same", handler)))

    pm = make_pm(kinds_of("first"), kinds_of("second"))
    kinds = collect_kinds(pm)
    assert list(kinds) == ["same"]
    assert [r.name for r in pm.load_errors] == ["second"]
    assert "registered twice" in pm.load_errors[0].error
