"""Running checks: each within its time limit, a crash or a wrong answer is ``unknown``,
and the exit code says fail (1) before cannot-tell (2)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import write
from traderctl.checks import Check, CheckContext, CheckResult, exit_code, run_checks
from traderctl.checks.core import core_checks
from traderctl.cli.main import build_cli
from traderctl.plugin.manager import module_plugin
from traderctl.plugin.sections import load_with_plugins


@pytest.fixture
def ctx(make_pm, clean_env: dict[str, str], tmp_path: Path) -> CheckContext:
    cfg = write(tmp_path / "t.yaml", f"supervisor:\n  data_dir: {tmp_path}/data\n")
    pm = make_pm(module_plugin("broken", register_commands=lambda cli: 1 / 0))
    build_cli(pm)  # "broken" fails here, as at start-up
    return CheckContext(load_with_plugins(pm, str(cfg), clean_env, []), pm)


def run(checks: list[Check], ctx: CheckContext) -> dict[str, CheckResult]:
    return asyncio.run(run_checks(checks, ctx))


def test_sync_and_async_checks_run_and_keep_their_order(ctx: CheckContext) -> None:
    async def later(c: CheckContext) -> CheckResult:
        await asyncio.sleep(0.05)
        return CheckResult("warn", "async")

    results = run([Check("slow", later), Check("fast", lambda c: CheckResult("ok", "sync"))],
                  ctx)
    assert list(results) == ["slow", "fast"]
    assert [r.status for r in results.values()] == ["warn", "ok"]


def test_a_crash_a_timeout_or_a_wrong_answer_is_unknown(ctx: CheckContext) -> None:
    def crash(c: CheckContext) -> CheckResult:
        raise OSError("disk gone")

    async def hang(c: CheckContext) -> CheckResult:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    started = time.monotonic()
    results = run([Check("crash", crash), Check("hang", hang, timeout=0.2),
                   Check("wrong", lambda c: "ok")], ctx)
    assert time.monotonic() - started < 5
    assert {n: (r.status, r.summary) for n, r in results.items()} == {
        "crash": ("unknown", "check raised OSError: disk gone"),
        "hang": ("unknown", "timed out after 0.2s"),
        "wrong": ("unknown", "check returned str, not CheckResult"),
    }


@pytest.mark.parametrize(("statuses", "code"), [
    (["ok", "warn", "disabled"], 0), (["ok", "unknown"], 2), (["unknown", "fail"], 1),
])
def test_exit_code(statuses: list[str], code: int) -> None:
    results = {str(i): CheckResult(s, "") for i, s in enumerate(statuses)}
    assert exit_code(results) == code


def test_core_checks_see_a_failed_plugin_and_the_disk(ctx: CheckContext) -> None:
    results = run(core_checks(), ctx)
    assert results["config"].status == "ok"
    assert results["plugins"].status == "fail"
    assert "broken" in results["plugins"].details
    assert results["disk"].status in ("ok", "warn", "fail")
    assert results["disk"].details["path"] == str(Path(ctx.config.get("supervisor.data_dir"))
                                                  .parent)


def test_the_disk_check_fails_below_its_minimum(ctx: CheckContext) -> None:
    ctx.config.data["checks"]["disk"]["min_free_mb"] = 10**12  # more than any disk
    assert run(core_checks(), ctx)["disk"].status == "fail"
