"""Built-in plugin: the ``checks`` config section, ``traderctl check`` and the core checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

    from traderctl.checks import Check
    from traderctl.cli.main import LazyGroup
    from traderctl.config.schema import ConfigSection


IB_STATUS_URL = "https://www.interactivebrokers.com/en/software/systemStatus.php"


@hookimpl
def register_config(register: Callable[[ConfigSection], None]) -> None:
    from traderctl.config.schema import (
        Bool,
        ConfigSection,
        Duration,
        Field,
        Int,
        ListOf,
        MapOf,
        Section,
        Str,
    )

    register(ConfigSection("checks", Section({
        "timeout": Field(Duration(min=0.1), 15.0, "Default time limit of one check."),
        "disk": Section({
            "min_free_mb": Field(Int(min=0), 1024, "Fail below this much free space."),
            "warn_free_mb": Field(Int(min=0), 4096, "Warn below this much free space."),
        }),
        "clock": Section({
            "max_offset": Field(Duration(), 2.0, "Largest tolerated offset from TWS's clock."),
        }),
        "ib_status": Section({
            "enabled": Field(Bool(), True, "TRADER_CHECK=False in the environment also disables."),
            "url": Field(Str(), IB_STATUS_URL, "IB's system status page."),
            "ttl": Field(Duration(), 300.0, "Shared cache lifetime."),
            "timeout": Field(Duration(min=0.1), 10.0, "HTTP timeout per attempt."),
            "retries": Field(Int(min=0, max=10), 2, "Extra attempts after a failure."),
            "exchanges": Field(ListOf(Str(), allow_string=True), [],
                               "Exchanges you trade (IB codes or MICs)."),
            "aliases": Field(MapOf(Str(), key_pattern=r".+"), {},
                             "Extra names for exchanges: alias -> IB code."),
            "gate": Field(Bool(), True, "Hold tws starts during platform-wide problems."),
        }),
        "tws": Section({
            "enabled": Field(Bool(), None,
                             "tws and clock checks: unset = only when a tws service is "
                             "configured; true = always (TWS run elsewhere, at ib.host/ib.port)."),
            "timeout": Field(Duration(min=0.1), 5.0, "How long to wait for the API to answer."),
            "client_id": Field(Int(min=0), 999, "Reserved client id for the API check."),
        }),
    }, doc="traderctl check")))


@hookimpl
def register_commands(cli: LazyGroup) -> None:
    cli.add_lazy("check", "traderctl.commands.check:check", "Run the health checks.")


@hookimpl
def register_checks(register: Callable[[Check], None]) -> None:
    from traderctl.checks.core import core_checks
    from traderctl.checks.stack import stack_checks

    for check in [*core_checks(), *stack_checks()]:
        register(check)
