"""``traderctl jobs list|show|retry|cancel|purge|submit|batches`` and their exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.jobs.conftest import JobsEnv, submit


@pytest.fixture
def env(jobs_env: Callable[..., JobsEnv]) -> JobsEnv:
    env = jobs_env()
    submit(env, "test.record", [("a", {}), ("b", {})], batch="first")
    submit(env, "test.flaky", [("c", {})], batch="second")
    with env.store() as store:
        (job,) = store.claim("w", ["test.flaky"], 1, 60)
        store.fail(job.id, "w", "IB error 200: No security definition", None)
    return env


def test_list_filters_and_json(env: JobsEnv) -> None:
    run = env.cli("jobs", "list")
    assert run.returncode == 0
    assert run.stdout.splitlines()[0].split()[:5] == ["ID", "BATCH", "KIND", "KEY", "STATE"]
    rows = [json.loads(line) for line in env.cli("jobs", "list", "--json").stdout.splitlines()]
    assert [(r["key"], r["state"]) for r in rows] == [("a", "pending"), ("b", "pending"),
                                                      ("c", "failed")]
    assert rows[2]["last_error"].startswith("IB error 200")
    only = env.cli("jobs", "list", "--json", "--batch", "second", "--state", "failed")
    assert [json.loads(line)["key"] for line in only.stdout.splitlines()] == ["c"]
    assert env.cli("jobs", "list", "--kind", "test.record", "--limit", "1").stdout.count(
        "test.record") == 1


def test_show_and_its_exit_codes(env: JobsEnv) -> None:
    shown = json.loads(env.cli("jobs", "show", "3", "--json").stdout)
    assert (shown["key"], shown["state"], shown["attempts"]) == ("c", "failed", 1)
    assert "No security definition" in env.cli("jobs", "show", "3").stdout
    missing = env.cli("jobs", "show", "99")
    assert missing.returncode == 1 and "no job 99" in missing.stderr


def test_retry_cancel_purge(env: JobsEnv) -> None:
    assert env.cli("jobs", "retry", "--batch", "first").returncode == 1  # none failed there
    run = env.cli("jobs", "retry", "--state", "failed")
    assert run.returncode == 0 and "retry: 1 job" in run.stdout
    assert env.cli("jobs", "cancel", "1", "2").stdout.strip() == "cancel: 2 jobs"
    assert env.cli("jobs", "purge", "--batch", "first").stdout.strip() == "purge: 2 jobs"
    batches = json.loads(env.cli("jobs", "batches", "--json").stdout)
    assert [(b["name"], b["pending"]) for b in batches] == [("second", 1)]


def test_selection_needs_a_filter_and_a_known_batch(env: JobsEnv) -> None:
    assert env.cli("jobs", "cancel").returncode == 2
    unknown = env.cli("jobs", "list", "--batch", "nope")
    assert unknown.returncode == 2 and "no batch 'nope'" in unknown.stderr


def test_submit_is_idempotent_by_key(env: JobsEnv) -> None:
    again = submit(env, "test.record", [("a", {"x": 1}), ("new", {})], batch="third")
    assert (again["new"], again["unchanged"]) == (1, 1)
    refreshed = env.cli("jobs", "submit", "test.record", "--refresh",
                        input=json.dumps({"key": "a", "payload": {"x": 2}}) + "\n")
    assert json.loads(refreshed.stdout)["refreshed"] == 1
    bad = env.cli("jobs", "submit", "test.record", input="not json\n")
    assert bad.returncode == 2 and "line 1" in bad.stderr


def test_an_unusable_store_exits_3(env: JobsEnv) -> None:
    env.store_path.unlink()
    for suffix in ("-wal", "-shm"):
        env.store_path.with_name(env.store_path.name + suffix).unlink(missing_ok=True)
    env.store_path.write_text("garbage" * 1000)
    run = env.cli("jobs", "list")
    assert run.returncode == 3 and "job store" in run.stderr


def test_kinds_lists_the_registered_kinds_and_rules(env: JobsEnv) -> None:
    kinds = {k["name"]: k for k in json.loads(env.cli("jobs", "kinds", "--json").stdout)}
    assert kinds["test.paced"]["profile"] == "ib_historical_small"
    assert len(kinds["test.paced"]["rules"]) == 3


def test_the_commented_example_in_trader_yaml_is_valid(jobs_env: Callable[..., JobsEnv]) -> None:
    from tests.conftest import REPO

    lines = (REPO / "configs" / "trader.yaml").read_text().splitlines()
    start = lines.index("# jobs:")
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("#   "):
            break
        block.append(line[4:])
    env = jobs_env()
    env.write_config("\n".join(block) + "\n")
    run = env.cli("config", "check")
    assert run.returncode == 0, run.stderr
    shown = json.loads(env.cli("config", "show", "--json").stdout)["jobs"]
    assert shown["retry"]["max_attempts"] == 8 and shown["soft_rate"]["per"] == 60.0
