"""One layered configuration: defaults < YAML file < environment < command-line flags.

Every command reads its settings through :func:`load_config`; nothing else in
the code base keeps its own defaults for hosts, ports or paths.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from traderctl.config.schema import Context, Path, Section, Type, format_path
from traderctl.config.yamlfile import load_yaml_file

ENV_PREFIX = "TRADERCTL_"
DEFAULT_LOCATIONS = ("configs/trader.yaml", "/etc/traderctl/trader.yaml")
SECRET_MASK = "***"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, located as precisely as we can."""

    where: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.path}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems

    def report(self) -> None:
        """One ``config error: file:line: key: message`` line per problem on stderr."""
        for problem in self.problems:
            print(f"config error: {problem}", file=sys.stderr)
        count = len(self.problems)
        print(f"{count} problem{'s' * (count != 1)} in the configuration; nothing was "
              f"started", file=sys.stderr)


@dataclass(frozen=True)
class Override:
    """A value from outside the file: an environment variable or a command-line flag."""

    key: str
    text: str
    origin: str


@dataclass
class Config:
    """The effective configuration with the origin of every value."""

    data: dict[str, Any]
    origins: dict[Path, str] = field(default_factory=dict)
    secret_paths: set[Path] = field(default_factory=set)
    source: str | None = None
    origin_aliases: dict[Path, Path] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        return self.data.get(name) or {}

    def origin(self, path: Path) -> str:
        if path not in self.origins and path in self.origin_aliases:
            path = self.origin_aliases[path]
        return self.origins.get(path, "default")

    def secret_values(self) -> set[str]:
        return {str(v) for p, v, _ in self.leaves() if p in self.secret_paths and v}

    def leaves(self) -> Iterator[tuple[Path, Any, str]]:
        """Every leaf value with its origin; a list is a leaf unless it holds mappings
        (``notify.targets[0].url``), which are walked like sections."""
        yield from _walk(self.data, (), self)

    def redacted(self) -> dict[str, Any]:
        return _redact(self.data, (), self.secret_paths)


def _walk(node: Any, path: Path, config: Config) -> Iterator[tuple[Path, Any, str]]:
    if isinstance(node, Mapping) and node:
        for key, value in node.items():
            yield from _walk(value, (*path, key), config)
    elif isinstance(node, list) and any(isinstance(item, Mapping) for item in node):
        for i, item in enumerate(node):
            yield from _walk(item, (*path, i), config)
    else:
        yield path, node, config.origin(path)


def _redact(node: Any, path: Path, secrets: set[Path]) -> Any:
    if path in secrets:
        return SECRET_MASK if node not in (None, "") else node
    if isinstance(node, Mapping):
        return {k: _redact(v, (*path, k), secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact(v, (*path, i), secrets) for i, v in enumerate(node)]
    return node


def find_config_file(explicit: str | None, env: Mapping[str, str]) -> tuple[str | None, bool]:
    """The file to read and whether it was asked for (a missing asked-for file is an error)."""
    if explicit:
        return explicit, True
    if env.get(ENV_PREFIX + "CONFIG"):
        return env[ENV_PREFIX + "CONFIG"], True
    for candidate in DEFAULT_LOCATIONS:
        if os.path.exists(candidate):
            return candidate, False
    return None, False


def load_config(
    schema: Section,
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: list[Override] = (),  # type: ignore[assignment]
    finalize: Callable[[Config, Callable[[Path, str], None]], None] | None = None,
) -> Config:
    """Build the effective config; raise ConfigError listing every problem found."""
    env = os.environ if env is None else env
    file, asked = find_config_file(path, env)
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    origins: dict[Path, str] = {}
    lines: dict[Path, int] = {}
    if file and (asked or os.path.exists(file)):
        raw, lines = _read_file(file, problems)
        origins = {p: f"{file}:{line}" for p, line in lines.items()}
    env_overrides = [Override(k, v, f"env:{name}") for name, (k, v) in _env_keys(env).items()]
    for item in [*env_overrides, *overrides]:
        _apply_override(schema, raw, origins, item, problems)

    def report(p: Path, message: str) -> None:
        problems.append(Problem(_locate(p, origins, file), format_path(p), message))

    ctx = Context(report, os.path.dirname(os.path.abspath(file)) if file else os.getcwd())
    data = schema.convert(raw, (), ctx)
    config = Config(data, origins, ctx.secret_paths, file, ctx.origin_aliases)
    if finalize and not problems:
        finalize(config, report)
    if problems:
        raise ConfigError(problems)
    return config


def _read_file(file: str, problems: list[Problem]) -> tuple[dict[str, Any], dict[Path, int]]:
    doc = load_yaml_file(file)
    for line, p, message in doc.problems:
        problems.append(Problem(f"{file}:{line}", format_path(p), message))
    if doc.data is None:
        return {}, doc.lines
    if not isinstance(doc.data, dict):
        problems.append(Problem(f"{file}:1", "<root>", "the top level must be a mapping"))
        return {}, doc.lines
    return doc.data, doc.lines


def _env_keys(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``TRADERCTL_IB__PORT=7497`` -> ``{"TRADERCTL_IB__PORT": ("ib.port", "7497")}``."""
    out = {}
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            parts = name[len(ENV_PREFIX):].lower().split("__")
            out[name] = (".".join(parts), value)
    return out


def _apply_override(schema: Section, raw: dict[str, Any], origins: dict[Path, str],
                    item: Override, problems: list[Problem]) -> None:
    path: tuple[str, ...] = tuple(item.key.split("."))
    type_ = _lookup(schema, path)
    if type_ is None or not item.key:
        problems.append(Problem(item.origin, item.key or "<empty>", "unknown key"))
        return
    node = raw
    *parents, leaf = item.key.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = type_.from_text(item.text)
    origins[path] = item.origin


def _lookup(schema: Section, path: Path) -> Type | None:
    node: Type | None = schema
    for part in path:
        node = node.child(part) if node is not None else None
    return node


def _locate(path: Path, origins: dict[Path, str], file: str | None) -> str:
    for end in range(len(path), -1, -1):
        if path[:end] in origins:
            return origins[path[:end]]
    return f"{file}:1" if file else "default"
