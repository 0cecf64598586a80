"""Hostile config files: each is exit 2 with ``file:line: key: message``, never a traceback."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import run_traderctl

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))

# (name, file content, a fragment of the expected problem)
CASES: list[tuple[str, str | bytes, str]] = [
    ("recursive_alias", "services: &s {a: *s}\n", "recursive YAML alias"),
    ("recursive_list", "ib: &l [*l]\n", "recursive YAML alias"),
    ("alias_bomb", LAUGHS, "YAML aliases expand to more than"),
    ("invalid_utf8", b"supervisor:\n  socket: \xff\xfe/x\n", "not UTF-8 text"),
    ("binary_garbage", bytes(range(256)) * 4, "not UTF-8 text"),
    ("control_chars", b"ib:\n  host: a\x01b\n", "YAML syntax error"),
    ("deep_nesting", "ib: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
    ("syntax", "ib: [\n", "YAML syntax error"),
    ("root_list", "- a\n", "the top level must be a mapping"),
    ("complex_key", "? [a]\n: 1\n", "a key must be a plain value"),
    ("type_list", "services:\n  a:\n    type: [a]\n", "services.a.type: expected one of"),
    ("type_mapping", "services:\n  a:\n    type: {a: 1}\n", "services.a.type: expected one of"),
    ("services_list", "services: [a, b]\n", "services: expected a mapping"),
    ("service_scalar", "services:\n  a: 5\n", "services.a: expected a service mapping"),
    ("socket_too_long", "supervisor:\n  socket: /tmp/" + "s" * 120 + "\n",
     "supervisor.socket: 125 bytes long"),
    ("socket_is_directory", "supervisor:\n  socket: {tmp}\n", "is a directory"),
    ("socket_is_file", "supervisor:\n  socket: {tmp}/plain\n", "exists and is not a socket"),
    ("data_dir_is_file", "supervisor:\n  data_dir: {tmp}/plain\n", "is not a directory"),
    ("data_dir_in_proc", "supervisor:\n  data_dir: /proc/self/x\n", "is under /proc"),
    ("nan_duration", "services:\n  a:\n    command: x\n    backoff: {initial: .nan}\n",
     "services.a.backoff.initial: expected a finite duration"),
    ("inf_duration", "services:\n  a:\n    command: x\n    stop: {timeout: .inf}\n",
     "services.a.stop.timeout: expected a finite duration"),
    ("nan_factor", "services:\n  a:\n    command: x\n    backoff: {factor: .nan}\n",
     "expected a finite number"),
    ("huge_duration", "services:\n  a:\n    command: x\n    stable_after: 1.0e+300\n",
     "must be at most 365d"),
    ("name_dot", "services:\n  .:\n    command: x\n", "invalid name '.'"),
    ("name_dotdot", "services:\n  ..:\n    command: x\n", "invalid name '..'"),
    ("name_slash", "services:\n  a/b:\n    command: x\n", "invalid name 'a/b'"),
    ("nul_in_command", 'services:\n  a:\n    command: "x\\0y"\n',
     "services.a.command: must not contain a NUL"),
    ("nul_in_command_list", 'services:\n  a:\n    command: [x, "y\\0"]\n',
     "must not contain a NUL"),
    ("nul_in_env", 'services:\n  a:\n    command: x\n    env: {A: "b\\0"}\n',
     "services.a.env.A: must not contain a NUL"),
    ("two_password_sources", "services:\n  t:\n    type: tws\n    tws_version: '1030'\n"
     "    username: u\n    password: p\n    password_env: P\n", "set only one of"),
    ("password_newline", "services:\n  t:\n    type: tws\n    tws_version: '1030'\n"
     "    username: u\n    password: \"p\\nIbLoginId=other\"\n", "must be one line"),
    ("bad_cron", "services:\n  a:\n    command: x\n    schedule:\n      - {cron: 'a b'}\n",
     "invalid cron expression"),
    ("schedule_scalar", "services:\n  a:\n    command: x\n    schedule: [5]\n",
     "expected a mapping"),
    ("env_list_value", "services:\n  a:\n    command: x\n    env: {A: [1]}\n",
     "expected a string"),
    ("python_tag", "ib:\n  host: !!python/object/apply:os.system [id]\n",
     "ib.host: expected a string"),
    ("python_scalar_tag", "ib:\n  host: !!python/name:os.system x\n", "bad value"),
    ("merge_key", "x: &x {a: 1}\nib:\n  <<: *x\n", "merge keys"),
]

LINE = re.compile(r"^config error: (?P<file>[^:]+):(?P<line>\d+): (?P<key>\S+): (?P<msg>.+)$")


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_hostile_config_is_a_located_error(tmp_path: Path, clean_env: dict[str, str],
                                           content: str | bytes, expected: str) -> None:
    (tmp_path / "plain").write_text("not a socket\n")
    config = tmp_path / "trader.yaml"
    if isinstance(content, bytes):
        config.write_bytes(content)
    else:
        config.write_text(content.replace("{tmp}", str(tmp_path)))
    started = time.monotonic()
    result = run_traderctl("--config", str(config), "config", "check", env=clean_env,
                           timeout=20)
    assert time.monotonic() - started < 10  # an alias bomb is refused, not expanded
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("config error")]
    assert problems, result.stderr
    for line in problems:
        match = LINE.match(line)
        assert match, line
        assert match["file"] == str(config) and int(match["line"]) >= 1, line
    assert any(expected in line for line in problems), result.stderr
    assert not any("required value is missing" in line for line in problems), result.stderr
    assert (tmp_path / "plain").read_text() == "not a socket\n"


@pytest.mark.parametrize("value", ["&a [*a]", LAUGHS, "[" * 5000])
def test_hostile_environment_values_are_errors_not_hangs(tmp_path: Path, clean_env: dict[str, str],
                                                         value: str) -> None:
    env = {**clean_env, "TRADERCTL_IB__HOST": value, "TRADERCTL_SERVICES__A__COMMAND": "x",
           "TRADERCTL_SERVICES__A__DEPENDS_ON": value}
    result = run_traderctl("config", "check", env=env, cwd=tmp_path, timeout=20)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr


@pytest.mark.parametrize("name", ["socket_too_long", "socket_is_directory", "data_dir_is_file",
                                  "data_dir_in_proc", "recursive_alias", "nan_duration"])
def test_supervise_refuses_what_config_check_refuses(tmp_path: Path, clean_env: dict[str, str],
                                                     name: str) -> None:
    (content,) = [c[1] for c in CASES if c[0] == name]
    (tmp_path / "plain").write_text("not a socket\n")
    config = tmp_path / "trader.yaml"
    assert isinstance(content, str)
    config.write_text(content.replace("{tmp}", str(tmp_path)))
    result = run_traderctl("--config", str(config), "supervise", env=clean_env, timeout=20)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "nothing was started" in result.stderr
