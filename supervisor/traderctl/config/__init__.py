"""Layered, validated configuration (see :mod:`traderctl.config.loader`)."""

from traderctl.config.loader import Config, ConfigError, Override, Problem, load_config
from traderctl.config.schema import (
    REQUIRED,
    Bool,
    Choice,
    ConfigSection,
    Duration,
    Field,
    FilePath,
    Float,
    HostPort,
    Int,
    ListOf,
    MapOf,
    Port,
    Section,
    Str,
    TimeZone,
    Type,
)

__all__ = [
    "REQUIRED", "Bool", "Choice", "Config", "ConfigError", "ConfigSection", "Duration",
    "Field", "FilePath", "Float", "HostPort", "Int", "ListOf", "MapOf", "Override", "Port",
    "Problem", "Section", "Str", "TimeZone", "Type", "load_config",
]
