"""The ``services:`` section: what one service spec may say, its typed shape, and graph
checks at load.

The config layer (:class:`ServiceSpecType`) builds each ``services.<name>`` into a
:class:`ServiceSpec`: every base key present, defaults filled in, durations in seconds.
A service type adds keys of its own (the ``tws`` type's are
:class:`traderctl.tws.servicetype.TwsSpec`, a ``ServiceSpec`` with more keys). At run time a
spec is the plain dict the config holds (reload compares them, ``config show`` prints them);
the shape is for the type checker and the reader.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

from traderctl.config.schema import (
    Bool,
    Choice,
    Context,
    Duration,
    Field,
    FilePath,
    Float,
    Int,
    Invalid,
    ListOf,
    MapOf,
    Path,
    Section,
    Str,
    TimeZone,
    Type,
    convert_child,
    describe,
)
from traderctl.services.probes import ProbeType
from traderctl.services.types import ServiceType

if TYPE_CHECKING:
    from traderctl.config.loader import Config

SIGNALS = ("TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "KILL")


class _Probe(TypedDict):
    kind: str
    value: Any  # as the kind's type converts it: seconds, "host:port", an argv
    timeout: float
    interval: float


class ProbeConfig(_Probe, total=False):
    """``readiness`` or ``liveness``: the one kind given, its value, and the timings; the
    keys below are the liveness probe's only."""

    failures: int
    initial_delay: float


class BackoffConfig(TypedDict):
    initial: float
    factor: float
    max: float
    jitter: float


class StartLimitConfig(TypedDict):
    burst: int
    interval: float


class StopConfig(TypedDict):
    signal: str  # a name of SIGNALS, without SIG
    timeout: float


class ScheduleItem(TypedDict):
    action: Literal["start", "stop", "restart"]
    cron: str
    timezone: str


class ServiceSpec(TypedDict):
    """One ``services.<name>`` as the config layer builds it (see :func:`base_fields`)."""

    type: str
    command: list[str] | None
    shell: bool
    cwd: str | None
    env: dict[str, str]
    autostart: bool
    depends_on: list[str]
    restart: Literal["always", "on-failure", "never"]
    backoff: BackoffConfig
    stable_after: float
    start_limit: StartLimitConfig
    readiness: ProbeConfig | None
    liveness: ProbeConfig | None
    stop: StopConfig
    schedule: list[ScheduleItem]


def service_specs(config: Config) -> dict[str, ServiceSpec]:
    """The config's services, by name, in config order."""
    return cast("dict[str, ServiceSpec]", config.section("services"))


class Command(Type):
    """A list of arguments, or a string split like a shell would (without running one)."""

    name = "command (list or string)"

    def convert(self, value: Any, path: Path, ctx: Context) -> list[str]:
        if isinstance(value, str):
            try:
                parts = shlex.split(value)
            except ValueError as exc:
                raise Invalid(f"cannot split command: {exc}") from None
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            parts = [str(v) for v in value]
        else:
            raise Invalid(f"expected a command string or list of strings, got {describe(value)}")
        if not parts:
            raise Invalid("command is empty")
        if any("\0" in part for part in parts):
            raise Invalid("must not contain a NUL character")
        return parts


class Cron(Str):
    """Five crontab fields with the usual meaning (0 or 7 = Sunday)."""

    name = "cron expression"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        from traderctl.services.schedule import validate_crontab

        text = super().convert(value, path, ctx)
        try:
            validate_crontab(text)
        except ValueError as exc:
            raise Invalid(f"invalid cron expression {text!r}: {exc}") from None
        return text


class ProbeSpec(Type):
    """``{<kind>: <value>, timeout, interval, failures}`` with exactly one kind."""

    def __init__(self, kinds: dict[str, ProbeType], liveness: bool) -> None:
        self.kinds = kinds
        self.name = "probe (" + " | ".join(kinds) + ")"
        common: dict[str, Field] = {"timeout": Field(Duration(), 60.0 if not liveness else 5.0)}
        if liveness:
            common |= {"interval": Field(Duration(min=0.05), 10.0),
                       "failures": Field(Int(min=1), 3),
                       "initial_delay": Field(Duration(), 0.0)}
        else:
            common |= {"interval": Field(Duration(min=0.01), 0.2)}
        self.common = common

    def convert(self, value: Any, path: Path, ctx: Context) -> ProbeConfig | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping with one of {', '.join(self.kinds)}")
        chosen = [k for k in value if k in self.kinds]
        if len(chosen) != 1:
            raise Invalid(f"expected exactly one of {', '.join(self.kinds)}, got {sorted(value)}")
        kind = chosen[0]
        fields: dict[str, Field | Section] = {kind: Field(self.kinds[kind].type), **self.common}
        out = Section(fields).convert(value, path, ctx)
        ctx.origin_aliases[(*path, "kind")] = ctx.origin_aliases[(*path, "value")] = (*path, kind)
        return cast(ProbeConfig, {"kind": kind, "value": out.pop(kind), **out})

    def sample(self) -> Any:
        return {k: p.type.sample() for k, p in self.kinds.items()} | {
            k: f.type.sample() for k, f in self.common.items()}


def base_fields(types: dict[str, ServiceType], probes: dict[str, ProbeType]) -> dict[str, Any]:
    return {
        "type": Field(Choice(*types), "process", "Service type."),
        "command": Field(Command(), None, "argv list, or a string split like a shell."),
        "shell": Field(Bool(), False, "Run command through /bin/sh -c."),
        "cwd": Field(FilePath(), None, "Working directory."),
        "env": Field(MapOf(Str(), key_pattern=r"[A-Za-z_][A-Za-z0-9_]*"), {},
                     "Extra environment variables."),
        "autostart": Field(Bool(), True, "Start with the supervisor."),
        "depends_on": Field(ListOf(Str()), [], "Services that must be running first."),
        "restart": Field(Choice("always", "on-failure", "never"), "always"),
        "backoff": Section({
            "initial": Field(Duration(), 1.0), "factor": Field(Float(min=1.0), 2.0),
            "max": Field(Duration(), 60.0), "jitter": Field(Float(min=0.0), 0.1),
        }),
        "stable_after": Field(Duration(), 30.0, "Healthy uptime that resets the backoff."),
        "start_limit": Section({"burst": Field(Int(min=1), 5),
                                "interval": Field(Duration(), 60.0)}),
        "readiness": Field(ProbeSpec(probes, liveness=False), None),
        "liveness": Field(ProbeSpec(probes, liveness=True), None),
        "stop": Section({"signal": Field(Choice(*SIGNALS), "TERM"),
                         "timeout": Field(Duration(), 10.0)}),
        "schedule": Field(ListOf(Section({
            "action": Field(Choice("start", "stop", "restart"), "restart"),
            "cron": Field(Cron(), None),
            "timezone": Field(TimeZone(), "UTC"),
        })), []),
    }


class ServiceSpecType(Type):
    """One service: the base keys plus the keys its ``type`` adds."""

    name = "service"

    def __init__(self, types: dict[str, ServiceType], probes: dict[str, ProbeType]) -> None:
        self.types = types
        self.base = base_fields(types, probes)

    def section_for(self, type_name: str) -> Section:
        extra = self.types[type_name].fields if type_name in self.types else {}
        return Section({**self.base, **extra})

    def convert(self, value: Any, path: Path, ctx: Context) -> ServiceSpec:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a service mapping, got {describe(value)}")
        type_name = value.get("type", "process")
        if not isinstance(type_name, str):
            # reported by the type's own Choice below; the base keys are still checked
            type_name = ""
        out = convert_child(self.section_for(type_name), value, path, ctx) or {}
        service_type = self.types.get(type_name)
        if service_type and service_type.needs_command and "command" not in value:
            ctx.report((*path, "command"), "required value is missing")
        raw_schedule = value.get("schedule")
        for i, item in enumerate(out.get("schedule") or []):
            given = raw_schedule[i] if isinstance(raw_schedule, list) else None
            if item and not (isinstance(given, Mapping) and given.get("cron") is not None):
                ctx.report((*path, "schedule", i, "cron"), "required value is missing")
        if out and not out.get("cwd"):
            _resolve_commands(out, ctx.base_dir)
        if service_type is not None and service_type.validate is not None and out:
            service_type.validate(out, lambda key, message: ctx.report((*path, key), message))
        return cast(ServiceSpec, out)  # complete unless a problem was reported

    def child(self, key: str | int) -> Type | None:
        return self.section_for("process").child(key) or _any_type_child(self.types, key)

    def sample(self) -> Any:
        return self.section_for("process").sample()


def _resolve_commands(spec: dict[str, Any], base_dir: str) -> None:
    """Without a ``cwd``, a relative command path (``bin/run``) is taken from the config
    file's folder, like ``cwd`` itself, not from wherever the supervisor was started."""
    commands = [spec.get("command")] + [
        probe["value"] for probe in (spec.get("readiness"), spec.get("liveness"))
        if probe and probe.get("kind") == "command"]
    for argv in commands:
        if argv and "/" in argv[0] and not os.path.isabs(argv[0]):
            argv[0] = os.path.normpath(os.path.join(base_dir, argv[0]))


def _any_type_child(types: dict[str, ServiceType], key: str | int) -> Type | None:
    for t in types.values():
        if key in t.fields:
            return Section(dict(t.fields)).child(key)
    return None


# a name becomes a file name (logs/<name>.log) and an environment value: no "." or ".."
SERVICE_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"


def services_section(types: dict[str, ServiceType], probes: dict[str, ProbeType]) -> MapOf:
    """The ``services:`` mapping, for the service types and probe kinds plugins registered."""
    return MapOf(ServiceSpecType(types, probes),
                 key_pattern=SERVICE_NAME,
                 hint="letters, digits, _ . -, starting with a letter, digit or _")


def check_services(config: Any, report: Callable[[Path, str], None]) -> None:
    """Graph checks: unknown dependencies and cycles, each named."""
    services = service_specs(config)
    for name, spec in services.items():
        for dep in spec.get("depends_on") or []:
            if dep not in services:
                report(("services", name, "depends_on"), f"unknown service {dep!r}")
            elif dep == name:
                report(("services", name, "depends_on"), "a service cannot depend on itself")
    for cycle in find_cycles(services):
        report(("services", cycle[0], "depends_on"), "dependency cycle: " + " -> ".join(cycle))


def find_cycles(services: Mapping[str, Any]) -> list[list[str]]:
    """Each cycle once, as a path that returns to its start (``a -> b -> a``)."""
    graph = {n: [d for d in (s.get("depends_on") or []) if d in services and d != n]
             for n, s in services.items()}
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep):], dep]
                if frozenset(cycle) not in seen_sets:
                    seen_sets.add(frozenset(cycle))
                    cycles.append(cycle)
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return cycles


def topological_order(services: Mapping[str, Any]) -> list[str]:
    """Dependencies first; ties keep config order (the graph is acyclic after load)."""
    order: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        done.add(node)
        for dep in services[node].get("depends_on") or []:
            if dep in services:
                visit(dep)
        order.append(node)

    for node in services:
        visit(node)
    return order


def levels(services: Mapping[str, Any], names: list[str]) -> list[list[str]]:
    """``names`` by depth in the dependency graph: level 0 depends on none of ``services``,
    level n on some of level n-1 (a level starts or stops together)."""
    depth: dict[str, int] = {}
    for name in topological_order(services):
        deps = [d for d in services[name]["depends_on"] if d in depth]
        depth[name] = 1 + max((depth[d] for d in deps), default=-1)
    found: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in names:
        found[depth[name]].append(name)
    return found
