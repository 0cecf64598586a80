"""Built-in plugin: the ``checks`` config section, ``traderctl check`` and the core checks."""

from __future__ import annotations

import os
import shutil
from typing import Any

from traderctl import hookimpl
from traderctl.checks import Check, CheckContext, CheckResult
from traderctl.config.schema import (
    Bool,
    ConfigSection,
    Duration,
    Field,
    Float,
    Int,
    ListOf,
    MapOf,
    Section,
    Str,
)

IB_STATUS_URL = "https://www.interactivebrokers.com/en/software/systemStatus.php"


@hookimpl
def register_config(register: Any) -> None:
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
            "timeout": Field(Float(min=0.1), 5.0, "Seconds to wait for the API to answer."),
            "client_id": Field(Int(min=0), 999, "Reserved client id for the API check."),
        }),
    }, doc="traderctl check")))


@hookimpl
def register_commands(cli: Any) -> None:
    from traderctl.commands.check import check

    cli.add_command(check)


@hookimpl
def register_checks(register: Any) -> None:
    register(Check("config", config_valid, "The configuration loaded and validated."))
    register(Check("plugins", plugins_loaded, "No plugin failed to load."))
    register(Check("disk", disk_space, "Free space under supervisor.data_dir."))


def config_valid(ctx: CheckContext) -> CheckResult:
    return CheckResult("ok", f"{ctx.config.source or 'built-in defaults'} is valid")


def plugins_loaded(ctx: CheckContext) -> CheckResult:
    failed = {r.name: r.error for r in ctx.pm.load_errors}
    if failed:
        return CheckResult("fail", f"{len(failed)} plugin(s) failed to load", failed)
    return CheckResult("ok", f"{len(ctx.pm.records)} plugins loaded")


def disk_space(ctx: CheckContext) -> CheckResult:
    path = ctx.config.get("supervisor.data_dir")
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    usage = shutil.disk_usage(path or "/")
    free_mb = usage.free // (1024 * 1024)
    limits = ctx.config.section("checks")["disk"]
    details = {"path": path, "free_mb": free_mb, "total_mb": usage.total // (1024 * 1024)}
    if free_mb < limits["min_free_mb"]:
        return CheckResult("fail", f"only {free_mb} MB free under {path}", details)
    if free_mb < limits["warn_free_mb"]:
        return CheckResult("warn", f"{free_mb} MB free under {path}", details)
    return CheckResult("ok", f"{free_mb} MB free under {path}", details)
