"""The ``services:`` section: what one service spec may say, and graph checks at load."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from typing import Any

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
from traderctl.services.probes import ProbeType, collect_probe_types
from traderctl.services.types import ServiceType, collect_service_types

SIGNALS = ("TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "KILL")


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

    def convert(self, value: Any, path: Path, ctx: Context) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping with one of {', '.join(self.kinds)}")
        chosen = [k for k in value if k in self.kinds]
        if len(chosen) != 1:
            raise Invalid(f"expected exactly one of {', '.join(self.kinds)}, got {sorted(value)}")
        kind = chosen[0]
        fields = {kind: Field(self.kinds[kind].type), **self.common}
        out = Section(fields).convert(value, path, ctx)
        return {"kind": kind, "value": out.pop(kind), **out}

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

    def convert(self, value: Any, path: Path, ctx: Context) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a service mapping, got {describe(value)}")
        type_name = value.get("type", "process")
        out = convert_child(self.section_for(type_name), value, path, ctx) or {}
        service_type = self.types.get(type_name)
        if service_type and service_type.needs_command and not out.get("command"):
            ctx.report((*path, "command"), "required value is missing")
        if service_type and service_type.validate:
            service_type.validate(out, lambda key, message: ctx.report((*path, key), message))
        for i, item in enumerate(out.get("schedule") or []):
            if item and not item.get("cron"):
                ctx.report((*path, "schedule", i, "cron"), "required value is missing")
        return out

    def child(self, key: str | int) -> Type | None:
        return self.section_for("process").child(key) or _any_type_child(self.types, key)

    def sample(self) -> Any:
        return self.section_for("process").sample()


def _any_type_child(types: dict[str, ServiceType], key: str | int) -> Type | None:
    for t in types.values():
        if key in t.fields:
            return Section(dict(t.fields)).child(key)
    return None


def services_section(pm: Any) -> MapOf:
    return MapOf(ServiceSpecType(collect_service_types(pm), collect_probe_types(pm)))


def check_services(config: Any, report: Callable[[Path, str], None]) -> None:
    """Graph checks: unknown dependencies and cycles, each named."""
    services: dict[str, Any] = config.section("services")
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
