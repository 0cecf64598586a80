"""Every hook in the contract, implemented by a fixture plugin and called by the host."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tests.conftest import write
from traderctl import hookspecs
from traderctl.checks import Check, CheckResult
from traderctl.config import ConfigSection, Field, Int, Section
from traderctl.events import Event
from traderctl.plugins import module_plugin
from traderctl.services.probes import ProbeResult, ProbeType
from traderctl.services.types import ServiceType

HOOKS = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "traderctl_spec")}


def test_the_contract_lists_the_hooks_we_test() -> None:
    assert HOOKS == {"register_commands", "register_config", "register_checks",
                     "register_service_types", "register_probes", "on_event",
                     "ib_status_exchanges", "on_config", "on_shutdown",
                     "add_hookspecs"}


def test_register_commands(cli) -> None:
    @click.command("wave")
    def wave() -> None:
        click.echo("wave!")

    plugin = module_plugin("p", register_commands=lambda cli: cli.add_command(wave))
    assert cli("wave", plugins=(plugin,)).stdout == "wave!\n"


def test_register_config(cli, tmp_path: Path) -> None:
    plugin = module_plugin("p", register_config=lambda register: register(
        ConfigSection("extra", Section({"size": Field(Int(min=1), 5)}))))
    cfg = write(tmp_path / "c.yaml", "extra:\n  size: 0\n")
    result = cli("--config", str(cfg), "config", "check", plugins=(plugin,))
    assert result.exit_code == 2
    assert f"{cfg}:2: extra.size: must be at least 1" in result.stderr


def test_register_checks_and_on_event(cli) -> None:
    events: list[Event] = []
    plugin = module_plugin(
        "p",
        register_checks=lambda register: register(
            Check("always_fails", lambda ctx: CheckResult("fail", "as designed"))),
        on_event=lambda event: events.append(event),
    )
    result = cli("check", "always_fails", "--json", plugins=(plugin,))
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["status"] == "fail"
    assert [e.name for e in events] == ["check_result"]
    assert events[0].fields["check"] == "always_fails"


def test_register_service_types_and_probes(cli, tmp_path: Path) -> None:
    async def never_ready() -> ProbeResult:
        return ProbeResult(False)

    plugin = module_plugin(
        "p",
        register_service_types=lambda register: register(
            ServiceType("batch", fields={"rows": Field(Int(), 10)}, needs_command=False)),
        register_probes=lambda register: register(
            ProbeType("never", Int(), lambda value, runner: never_ready)),
    )
    cfg = write(tmp_path / "c.yaml", """
        services:
          job:
            type: batch
            rows: 20
            readiness: {never: 3}
    """)
    result = cli("--config", str(cfg), "config", "show", "--json", plugins=(plugin,))
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)["services"]["job"]
    assert job["rows"] == 20 and job["readiness"]["kind"] == "never"


# on_config and on_shutdown need a running supervisor: tests/daemon/test_lifecycle_hooks.py


def test_ib_status_exchanges(make_pm) -> None:
    plugin = module_plugin("p", ib_status_exchanges=lambda config: ["NYSE", "IBIS"])
    pm = make_pm(plugin)
    assert pm.hook.ib_status_exchanges(config=None) == [["NYSE", "IBIS"]]

