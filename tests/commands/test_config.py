"""``traderctl config show|check``: layers, origins, secrets, broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write
from traderctl.config import ConfigSection, Field, Section, Str
from traderctl.plugin.manager import module_plugin


def test_origin_reports_each_of_the_four_layers(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "trader.yaml", """
        ib:
          host: 10.0.0.5
          port: 4001
        supervisor:
          log_backups: 9
    """)
    result = cli("--config", str(cfg), "--set", "supervisor.log_backups=2",
                 "config", "show", "--origin", "--json",
                 env={"TRADERCTL_IB__PORT": "4002"})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["ib.client_id"] == {"value": 1, "origin": "default"}
    assert shown["ib.host"] == {"value": "10.0.0.5", "origin": f"{cfg}:2"}
    assert shown["ib.port"] == {"value": 4002, "origin": "env:TRADERCTL_IB__PORT"}
    assert shown["supervisor.log_backups"] == {"value": 2, "origin": "flag:--set"}


def test_origin_text_output_names_origins(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "t.yaml", "ib:\n  client_id: 7\n")
    result = cli("--config", str(cfg), "config", "show", "--origin")
    assert "ib.client_id" in result.stdout
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("ib.client_id"))
    assert line.split("=", 1)[1].strip() == f"7  # {cfg}:2"


def test_env_values_convert_to_the_keys_type(cli) -> None:
    result = cli("config", "show", "--json", env={
        "TRADERCTL_IB__CLIENT_ID": "12",
        "TRADERCTL_CHECKS__IB_STATUS__ENABLED": "false",
        "TRADERCTL_CHECKS__IB_STATUS__EXCHANGES": "NYSE,IBIS",
        "TRADERCTL_CHECKS__TIMEOUT": "2m",
    })
    data = json.loads(result.stdout)
    assert data["ib"]["client_id"] == 12
    assert data["checks"]["ib_status"]["enabled"] is False
    assert data["checks"]["ib_status"]["exchanges"] == ["NYSE", "IBIS"]
    assert data["checks"]["timeout"] == 120.0


def test_unknown_env_key_is_an_error(cli) -> None:
    result = cli("config", "show", env={"TRADERCTL_IB__PROT": "1"})
    assert result.exit_code == 2
    assert "env:TRADERCTL_IB__PROT: ib.prot: unknown key" in result.stderr


def test_secrets_print_as_stars(cli, tmp_path: Path) -> None:
    plugin = module_plugin("vault", register_config=lambda register: register(ConfigSection(
        "vault", Section({"api_key": Field(Str(), None, secret=True)}))))
    cfg = write(tmp_path / "t.yaml", "vault:\n  api_key: s3cr3t-value\n")
    for args in (["config", "show"], ["config", "show", "--json"],
                 ["config", "show", "--origin"], ["config", "show", "--origin", "--json"]):
        result = cli("--config", str(cfg), *args, plugins=(plugin,))
        assert result.exit_code == 0
        assert "s3cr3t-value" not in result.output
        assert "***" in result.stdout


def test_config_file_search_order(cli, tmp_path: Path) -> None:
    write(tmp_path / "configs" / "trader.yaml", "ib:\n  client_id: 3\n")
    env_file = write(tmp_path / "env.yaml", "ib:\n  client_id: 4\n")
    assert json.loads(cli("config", "show", "--json").stdout)["ib"]["client_id"] == 3
    result = cli("config", "show", "--json", env={"TRADERCTL_CONFIG": str(env_file)})
    assert json.loads(result.stdout)["ib"]["client_id"] == 4


def test_relative_paths_resolve_against_the_config_file(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "etc" / "t.yaml", "supervisor:\n  data_dir: state\n")
    data = json.loads(cli("--config", str(cfg), "config", "show", "--json").stdout)
    assert data["supervisor"]["data_dir"] == str(tmp_path / "etc" / "state")


def test_config_check_valid_and_invalid(cli, tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", "ib:\n  port: 4002\n")
    bad = write(tmp_path / "bad.yaml", "ib:\n  port: many\n")
    assert cli("config", "check", str(good)).exit_code == 0
    result = cli("config", "check", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: ib.port: expected an integer" in result.stderr


BROKEN = [
    ("syntax error", "ib:\n  host: [unclosed\n", 3, "<root>", "YAML syntax error"),
    ("unknown key", "ib:\n  hots: x\n", 2, "ib.hots", "unknown key (did you mean 'host'?)"),
    ("unknown section", "nosuch:\n  a: 1\n", 1, "nosuch", "unknown key"),
    ("wrong type", "ib:\n  client_id: abc\n", 2, "ib.client_id", "expected an integer"),
    ("port range", "ib:\n  port: 70000\n", 2, "ib.port", "must be at most 65535"),
    ("bad duration", "checks:\n  timeout: 5 minutes\n", 2, "checks.timeout", "expected a duration"),
    ("bad time zone", "services:\n  a:\n    command: x\n    schedule:\n"
     "      - cron: '0 9 * * 1'\n        timezone: Mars/Olympus\n", 6,
     "services.a.schedule[0].timezone", "unknown time zone 'Mars/Olympus'"),
    ("missing required", "services:\n  a:\n    restart: always\n", 2, "services.a.command",
     "required value is missing"),
    ("bad host:port", "services:\n  a:\n    command: x\n    readiness:\n      tcp: localhost\n",
     5, "services.a.readiness.tcp", "expected host:port, got 'localhost'"),
    ("bad choice", "services:\n  a:\n    command: x\n    restart: sometimes\n", 4,
     "services.a.restart", "expected one of always, on-failure, never"),
    ("unknown dependency", "services:\n  a:\n    command: x\n    depends_on: [b]\n", 4,
     "services.a.depends_on", "unknown service 'b'"),
    ("cycle", "services:\n  a:\n    command: x\n    depends_on: [b]\n  b:\n    command: y\n"
     "    depends_on: [a]\n", 4, "services.a.depends_on", "dependency cycle: a -> b -> a"),
    ("bad cron", "services:\n  a:\n    command: x\n    schedule:\n      - cron: '61 * * * *'\n",
     5, "services.a.schedule[0].cron", "invalid cron expression"),
    ("duplicate key", "ib:\n  port: 1\n  port: 2\n", 3, "ib.port", "duplicate key"),
    ("top level list", "- a\n- b\n", 1, "<root>", "the top level must be a mapping"),
    ("not a mapping", "ib: 4002\n", 1, "ib", "expected a mapping"),
    ("bad boolean", "services:\n  a:\n    command: x\n    autostart: maybe\n", 4,
     "services.a.autostart", "expected true or false"),
    ("empty command", "services:\n  a:\n    command: []\n", 3, "services.a.command",
     "command is empty"),
    ("bad log level", "logging:\n  level: loud\n", 2, "logging.level", "expected one of"),
]


@pytest.mark.parametrize(("label", "text", "line", "key", "message"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_broken_config_exit_2_with_file_line_and_key(cli, tmp_path: Path, label: str,
                                                     text: str, line: int, key: str,
                                                     message: str) -> None:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text(text)
    result = cli("--config", str(cfg), "config", "show")
    assert result.exit_code == 2, label
    assert result.stdout == ""
    assert f"config error: {cfg}:{line}: {key}: {message}" in result.stderr


def test_every_problem_is_reported_at_once(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "t.yaml", """
        ib:
          port: x
          hots: y
        logging:
          level: loud
    """)
    result = cli("--config", str(cfg), "config", "check")
    assert result.exit_code == 2
    assert result.stderr.count("config error:") == 3
    assert "3 problems in the configuration" in result.stderr


def test_missing_explicit_file_is_an_error(cli, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "nope.yaml"), "config", "show")
    assert result.exit_code == 2
    assert "cannot read config file" in result.stderr


def test_secrets_inside_lists_print_as_stars(cli, tmp_path: Path) -> None:
    url = "https://hooks.example.com/services/T0/B0/tok3n-in-a-list"
    cfg = write(tmp_path / "t.yaml", f"notify:\n  targets:\n    - name: hook\n      url: {url}\n")
    for args in (["config", "show"], ["config", "show", "--json"],
                 ["config", "show", "--origin"], ["config", "show", "--origin", "--json"]):
        result = cli("--config", str(cfg), *args)
        assert result.exit_code == 0, result.output
        assert "tok3n-in-a-list" not in result.output, args
        assert "***" in result.stdout and "hook" in result.stdout
    origin = cli("--config", str(cfg), "config", "show", "--origin").stdout
    assert "notify.targets[0].url" in origin and f"{cfg}:4" in origin


def test_show_prints_no_yaml_anchors_for_shared_defaults(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "t.yaml", """
        notify:
          targets:
            - {name: a, command: [cat]}
            - {name: b, command: [cat]}
        services:
          x: {command: [a]}
          y: {command: [b]}
    """)
    shown = cli("--config", str(cfg), "config", "show").stdout
    assert "&id" not in shown and "*id" not in shown
    assert shown.count("- service_state") == 2  # each target's default list in full


def test_origin_of_a_probe_is_the_file(cli, tmp_path: Path) -> None:
    cfg = write(tmp_path / "t.yaml", """
        services:
          x:
            command: [a]
            readiness: {tcp: "127.0.0.1:1"}
    """)
    rows = json.loads(cli("--config", str(cfg), "config", "show", "--origin", "--json").stdout)
    assert rows["services.x.readiness.kind"]["origin"] == f"{cfg}:4"
    assert rows["services.x.readiness.value"]["origin"] == f"{cfg}:4"
    assert rows["services.x.readiness.timeout"]["origin"] == "default"
