"""Declarative config schema: fields, value types and sections.

The core and every plugin describe their keys with these objects (through the
``register_config`` hook); the loader validates a merged document against them
and reports every problem at once instead of stopping at the first.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from traderctl.durations import parse_duration

Path = tuple[str | int, ...]
MAX_DURATION = 365 * 86400.0


@functools.cache
def regex(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: a schema declares dozens of patterns, a load uses few."""
    return re.compile(pattern)


class Invalid(ValueError):
    """A value does not fit its type; the message says what was expected."""


class Context:
    """Collects problems and secret paths while a document is converted."""

    def __init__(self, report: Callable[[Path, str], None], base_dir: str = ".") -> None:
        self.report = report
        self.base_dir = base_dir
        self.secret_paths: set[Path] = set()
        #: a converted key written under another name in the file (a probe's ``kind`` and
        #: ``value`` come from its ``tcp:`` key): where to look up its origin
        self.origin_aliases: dict[Path, Path] = {}


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Type:
    """Base of value types. ``convert`` returns the typed value or raises Invalid."""

    name = "value"

    def convert(self, value: Any, path: Path, ctx: Context) -> Any:
        return value

    def from_text(self, text: str) -> Any:
        """Parse an environment variable or ``--set`` value before ``convert``."""
        from traderctl.config.yamlfile import parse_value

        return parse_value(text) if text.strip() else text

    def sample(self) -> Any:
        """A short description of the expected form, for ``config schema``."""
        return self.name

    def child(self, key: str | int) -> Type | None:
        """The type of a nested key, for addressing it from an environment variable."""
        return None


class Str(Type):
    name = "string"

    def __init__(self, pattern: str | None = None, hint: str = "") -> None:
        self.pattern = pattern
        self.hint = hint

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Invalid(f"expected a string, got {describe(value)}")
        text = str(value)
        if "\0" in text:
            # nothing downstream (argv, environment, paths) can carry one
            raise Invalid("must not contain a NUL character")
        if self.pattern and not regex(self.pattern).fullmatch(text):
            raise Invalid(f"expected {self.hint or self.pattern}, got {describe(value)}")
        return text

    def from_text(self, text: str) -> Any:
        return text


class FilePath(Str):
    """A path; ``~`` and ``$VARS`` are expanded, relative paths are taken from the config file."""

    name = "path"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        import os

        text = os.path.expandvars(os.path.expanduser(super().convert(value, path, ctx)))
        if not text:
            raise Invalid("expected a path, got an empty string")
        return os.path.normpath(os.path.join(ctx.base_dir, text))


class Int(Type):
    name = "integer"

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min, self.max = min, max

    def convert(self, value: Any, path: Path, ctx: Context) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {describe(value)}")
        if self.min is not None and value < self.min:
            raise Invalid(f"must be at least {self.min}, got {value}")
        if self.max is not None and value > self.max:
            raise Invalid(f"must be at most {self.max}, got {value}")
        return value


class Float(Type):
    name = "number"

    def __init__(self, min: float | None = None) -> None:
        self.min = min

    def convert(self, value: Any, path: Path, ctx: Context) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected a number, got {describe(value)}")
        if not math.isfinite(value):
            raise Invalid(f"expected a finite number, got {value}")
        if self.min is not None and value < self.min:
            raise Invalid(f"must be at least {self.min}, got {value}")
        return float(value)


class Bool(Type):
    name = "boolean"
    _TEXT = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}

    def convert(self, value: Any, path: Path, ctx: Context) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in self._TEXT:
            return self._TEXT[value.lower()]
        raise Invalid(f"expected true or false, got {describe(value)}")

    def from_text(self, text: str) -> Any:
        return text


class Duration(Type):
    """``500ms``, ``5s``, ``2m``, ``1h``, ``1d`` or a bare number of seconds; gives seconds."""

    name = "duration"

    def __init__(self, min: float = 0.0) -> None:
        self.min = min

    def convert(self, value: Any, path: Path, ctx: Context) -> float:
        if isinstance(value, bool):
            raise Invalid(f"expected a duration like 500ms, 5s, 2m or 1h, got {describe(value)}")
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if not math.isfinite(seconds):
            # a NaN backoff restarts at once, a NaN stop timeout SIGKILLs at once
            raise Invalid(f"expected a finite duration, got {describe(value)}")
        if seconds > MAX_DURATION:
            raise Invalid(f"must be at most 365d, got {describe(value)}")
        if seconds < self.min:
            raise Invalid(f"must be at least {self.min:g}s, got {describe(value)}")
        return seconds

    def sample(self) -> str:
        return "duration (500ms, 5s, 2m, 1h)"


class Choice(Type):
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.name = " | ".join(choices)

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        if value not in self.choices:
            raise Invalid(f"expected one of {', '.join(self.choices)}, got {describe(value)}")
        return value

    def from_text(self, text: str) -> Any:
        return text


class TimeZone(Type):
    name = "IANA time zone"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not isinstance(value, str) or not value:
            raise Invalid(f"expected an IANA time zone name, got {describe(value)}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {value!r}") from None
        return value

    def from_text(self, text: str) -> Any:
        return text


class HostPort(Type):
    """``host:port`` or ``[v6]:port``; kept as text, split with :func:`split_hostport`."""

    name = "host:port"

    def convert(self, value: Any, path: Path, ctx: Context) -> str:
        if not isinstance(value, str):
            raise Invalid(f"expected host:port, got {describe(value)}")
        try:
            split_hostport(value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        return value

    def from_text(self, text: str) -> Any:
        return text


def split_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {text!r}")
    if not 0 < int(port) < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return host.strip("[]"), int(port)


class Port(Int):
    name = "TCP port"

    def __init__(self) -> None:
        super().__init__(min=1, max=65535)


class ListOf(Type):
    def __init__(self, item: Type, allow_string: bool = False) -> None:
        self.item = item
        self.allow_string = allow_string
        self.name = f"list of {item.name}"

    def convert(self, value: Any, path: Path, ctx: Context) -> list[Any]:
        if self.allow_string and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise Invalid(f"expected a list, got {describe(value)}")
        return [convert_child(self.item, v, (*path, i), ctx) for i, v in enumerate(value)]

    def sample(self) -> Any:
        return [self.item.sample()]


class MapOf(Type):
    """A mapping with free keys (e.g. service names) and values of one type."""

    def __init__(self, value: Type, key_pattern: str = r"[A-Za-z0-9_.-]+",
                 hint: str = "") -> None:
        self.value = value
        self.key_pattern = key_pattern
        self.hint = hint
        self.name = f"mapping of {value.name}"

    def convert(self, value: Any, path: Path, ctx: Context) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping, got {describe(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not regex(self.key_pattern).fullmatch(key):
                hint = f" ({self.hint})" if self.hint else ""
                ctx.report((*path, str(key)), f"invalid name {describe(key)}{hint}")
                continue
            out[key] = convert_child(self.value, item, (*path, key), ctx)
        return out

    def sample(self) -> Any:
        return {"<name>": self.value.sample()}

    def child(self, key: str | int) -> Type | None:
        return self.value


REQUIRED: Any = object()


@dataclass(frozen=True)
class Field:
    """One key: its type, default (or REQUIRED), whether it is secret, and its doc."""

    type: Type
    default: Any = None
    doc: str = ""
    secret: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass
class Section(Type):
    """A mapping with a fixed set of keys; unknown keys are problems."""

    fields: dict[str, Field | Section] = field(default_factory=dict)
    doc: str = ""
    name: str = "mapping"
    ignore_unknown: bool = False  # for partial loads that read one section of a full file

    def convert(self, value: Any, path: Path, ctx: Context) -> dict[str, Any]:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping, got {describe(value)}")
        for key in value:
            if key not in self.fields and not self.ignore_unknown:
                ctx.report((*path, str(key)), unknown_key_message(key, self.fields))
        return {key: self._convert_key(key, spec, value, path, ctx)
                for key, spec in self.fields.items()}

    def _convert_key(self, key: str, spec: Field | Section, value: Mapping[str, Any],
                     path: Path, ctx: Context) -> Any:
        child = (*path, key)
        if isinstance(spec, Section):
            return convert_child(spec, value.get(key), child, ctx)
        if spec.secret:
            ctx.secret_paths.add(child)
        if key in value and value[key] is not None:
            return convert_child(spec.type, value[key], child, ctx)
        if spec.required:
            ctx.report(child, "required value is missing")
        # a copy: one shared default list would be one object in every service
        return copy.deepcopy(spec.default) if isinstance(spec.default, list | dict) \
            else spec.default

    def sample(self) -> Any:
        return {k: f.sample() if isinstance(f, Section) else f.type.sample()
                for k, f in self.fields.items()}

    def child(self, key: str | int) -> Type | None:
        spec = self.fields.get(str(key))
        return spec if isinstance(spec, Section) or spec is None else spec.type


def convert_child(type_: Type, value: Any, path: Path, ctx: Context) -> Any:
    """Convert one value, turning Invalid into a reported problem (value becomes None)."""
    try:
        return type_.convert(value, path, ctx)
    except Invalid as exc:
        ctx.report(path, str(exc))
        return None


def unknown_key_message(key: Any, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}"


@dataclass(frozen=True)
class ConfigSection:
    """What a plugin registers through ``register_config``: a top-level section."""

    name: str
    section: Section
    plugin: str = ""


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"
