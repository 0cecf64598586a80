"""The plugin host: built-ins first, entry points one at a time, broken plugins skipped."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, fake_distribution, run_traderctl
from traderctl.plugin.manager import PluginLoadError, build_plugin_manager, module_plugin

BROKEN_AT_IMPORT = "raise RuntimeError('boom at import')\n"
TYPO_HOOK = """
from traderctl import hookimpl

@hookimpl
def register_comands(cli):
    pass
"""
RAISES_IN_HOOK = """
from traderctl import hookimpl

@hookimpl
def register_commands(cli):
    raise ValueError('cannot register')
"""
GOOD = """
import click
from traderctl import hookimpl

@click.command('ping')
def ping():
    click.echo('pong')

@hookimpl
def register_commands(cli):
    cli.add_command(ping)
"""


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(REPO / "supervisor")])
    env.update(extra)
    return env


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    fake_distribution(root, "broken-import", BROKEN_AT_IMPORT, "0.3")
    fake_distribution(root, "typo-hook", TYPO_HOOK)
    fake_distribution(root, "raises-in-hook", RAISES_IN_HOOK)
    fake_distribution(root, "good-one", GOOD, "2.0")
    monkeypatch.syspath_prepend(str(root))
    return root


def test_broken_plugins_do_not_break_help_or_other_commands(site: Path, tmp_path: Path) -> None:
    env = child_env(tmp_path)
    help_run = run_traderctl("--help", env=env, cwd=tmp_path)
    assert help_run.returncode == 0, help_run.stderr
    assert "ping" in help_run.stdout
    assert run_traderctl("ping", env=env, cwd=tmp_path).stdout == "pong\n"
    listing = json.loads(run_traderctl("plugins", "--json", env=env, cwd=tmp_path).stdout)
    by_name = {p["name"]: p for p in listing}
    assert by_name["broken-import"]["status"] == "failed"
    assert "boom at import" in by_name["broken-import"]["error"]
    assert by_name["broken-import"]["version"] == "0.3"
    assert by_name["typo-hook"]["status"] == "failed"
    assert "register_comands" in by_name["typo-hook"]["error"]
    assert by_name["raises-in-hook"]["status"] == "failed"
    assert "cannot register" in by_name["raises-in-hook"]["error"]
    assert by_name["good-one"] == {**by_name["good-one"], "status": "loaded", "kind": "external",
                                   "version": "2.0", "hooks": ["register_commands"]}
    assert by_name["core"]["kind"] == "builtin"


def test_load_failure_is_logged_with_distribution_and_version(site: Path, tmp_path: Path) -> None:
    run = run_traderctl("--help", env=child_env(tmp_path), cwd=tmp_path)
    records = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    failed = [r for r in records if r["event"] == "plugin_load_failed"
              and r["plugin"] == "broken-import"]
    assert failed and failed[0]["distribution"] == "broken-import"
    assert failed[0]["version"] == "0.3" and failed[0]["level"] == "error"


def test_strict_mode_makes_failures_fatal(site: Path, tmp_path: Path) -> None:
    run = run_traderctl("--help", env=child_env(tmp_path, TRADERCTL_STRICT_PLUGINS="1"),
                        cwd=tmp_path)
    assert run.returncode == 1
    assert "failed at" in run.stderr


def test_disabled_plugins_are_not_loaded(site: Path, tmp_path: Path) -> None:
    env = child_env(tmp_path, TRADERCTL_DISABLE_PLUGINS="good-one,broken-import")
    listing = json.loads(run_traderctl("plugins", "--json", env=env, cwd=tmp_path).stdout)
    by_name = {p["name"]: p for p in listing}
    assert by_name["good-one"]["status"] == "disabled"
    assert by_name["broken-import"]["status"] == "disabled"
    assert "ping" not in run_traderctl("--help", env=env, cwd=tmp_path).stdout


def test_builtins_register_before_entry_points(site: Path, clean_env: dict[str, str]) -> None:
    pm = build_plugin_manager(env=clean_env)
    names = list(pm.records)
    assert names[:4] == ["core", "checks", "supervisor", *names[3:4]]
    assert names.index("good-one") > names.index("core")


def test_hello_plugin_is_found_through_its_entry_point(clean_env: dict[str, str]) -> None:
    pm = build_plugin_manager(env=clean_env)
    record = pm.records["hello"]
    assert not record.builtin and record.distribution == "traderctl-hello"
    assert pm.hooks_of("hello") == ["register_checks", "register_commands", "register_config"]


def test_a_builtin_failure_is_fatal(clean_env: dict[str, str]) -> None:
    def register_commands(cli: object) -> None:
        raise RuntimeError("bug")

    pm = build_plugin_manager(env=clean_env, entry_points=False,
                              extra=(module_plugin("extra", register_commands=register_commands),))
    pm.records["extra"].builtin = True
    with pytest.raises(PluginLoadError):
        pm.call_each("register_commands", cli=None)


def test_on_event_failures_are_isolated(clean_env: dict[str, str]) -> None:
    seen = []
    bad = module_plugin("bad", on_event=lambda event: 1 / 0)
    good = module_plugin("good", on_event=lambda event: seen.append(event))
    pm = build_plugin_manager(env=clean_env, entry_points=False, extra=(bad, good))
    pm.notify("on_event", event="e1")
    assert seen == ["e1"]
    assert sys.modules  # the host survived
