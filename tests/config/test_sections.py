"""The assembled schema: core sections, plugin sections with one owner each, and the values
derived from others (``ib.port`` from the first API service)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests.conftest import write
from traderctl.config import ConfigError, ConfigSection, Field, Int, Section
from traderctl.config.sections import load_supervisor_section
from traderctl.plugin.manager import PluginLoadError, module_plugin
from traderctl.plugin.sections import build_schema, load_with_plugins


def section_plugin(plugin: str, section: str, default: int) -> object:
    return module_plugin(plugin, register_config=lambda register: register(
        ConfigSection(section, Section({"size": Field(Int(), default)}))))


def test_a_second_claim_on_a_section_fails_only_the_later_plugin(make_pm) -> None:
    pm = make_pm(section_plugin("first", "extra", 1), section_plugin("second", "extra", 2),
                 section_plugin("third", "other", 3))
    schema = build_schema(pm)
    assert schema.fields["extra"].fields["size"].default == 1
    assert "other" in schema.fields
    assert "already owned by first" in pm.records["second"].error
    assert pm.get_plugin("second") is None and not pm.records["first"].error


@pytest.mark.parametrize("taken", ["ib", "services"])
def test_a_plugin_cannot_take_a_core_section(make_pm, taken: str) -> None:
    pm = make_pm(section_plugin("greedy", taken, 1))
    build_schema(pm)
    assert f"config section {taken!r} is already owned by core" in pm.records["greedy"].error


def test_in_strict_mode_a_section_conflict_is_fatal(make_pm) -> None:
    pm = make_pm(section_plugin("a", "extra", 1), section_plugin("b", "extra", 2),
                 env={"TRADERCTL_STRICT_PLUGINS": "1"})
    with pytest.raises(PluginLoadError, match="already owned by a"):
        build_schema(pm)


def test_ib_port_follows_the_first_tws_service_unless_set(make_pm, tmp_path: Path,
                                                          clean_env: dict[str, str]) -> None:
    services = """
        services:
          gw:
            type: tws
            mode: live
            gateway: true
            username: u
            password_env: IB_PW
    """
    pm = make_pm()
    derived = load_with_plugins(pm, str(write(tmp_path / "a.yaml", services)), clean_env, [])
    assert derived.get("ib.port") == 4001  # IB Gateway, live
    assert derived.origin(("ib", "port")) == "derived:services.gw.api_port"
    explicit = write(tmp_path / "b.yaml", "ib:\n  port: 7000\n" + textwrap.dedent(services))
    config = load_with_plugins(pm, str(explicit), clean_env, [])
    assert config.get("ib.port") == 7000 and config.origin(("ib", "port")) == f"{explicit}:2"
    none = load_with_plugins(pm, str(write(tmp_path / "c.yaml", "services: {}\n")), clean_env, [])
    assert none.get("ib.port") == 7497 and none.origin(("ib", "port")) == "default"


def test_the_supervisor_section_loads_while_the_rest_is_broken(make_pm, tmp_path: Path,
                                                               clean_env: dict[str, str]) -> None:
    cfg = write(tmp_path / "t.yaml", """
        supervisor:
          socket: /run/x/ctl.sock
        services:
          loop: {command: [sleep, "1"], depends_on: [loop]}
        ib:
          port: not-a-port
    """)
    with pytest.raises(ConfigError):
        load_with_plugins(make_pm(), str(cfg), clean_env, [])
    reachable = load_supervisor_section(str(cfg), clean_env, [])
    assert reachable.get("supervisor.socket") == "/run/x/ctl.sock"


def test_default_socket_and_data_dir_follow_xdg(make_pm, tmp_path: Path,
                                                clean_env: dict[str, str]) -> None:
    config = load_with_plugins(make_pm(), None, clean_env, [])
    if config.source:
        pytest.skip(f"a config file was found at {config.source}")
    assert config.get("supervisor.socket") == f"{tmp_path}/run/traderctl/traderctl.sock"
    root = os.geteuid() == 0
    assert config.get("supervisor.data_dir") == (
        "/var/lib/traderctl" if root else f"{tmp_path}/state/traderctl")
