"""The core's own checks: config, plugins, disk."""

from __future__ import annotations

import os
import shutil

from traderctl.checks import Check, CheckContext, CheckResult


def core_checks() -> list[Check]:
    return [
        Check("config", config_valid, "The configuration loaded and validated."),
        Check("plugins", plugins_loaded, "No plugin failed to load."),
        Check("disk", disk_space, "Free space under supervisor.data_dir."),
    ]


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
