"""The environment a child starts with: the supervisor's own, minus every secret.

The supervisor may hold the IB password in its environment (``password_env``) or
secret config values as ``TRADERCTL_*`` variables. None of them may reach another
service, its descendants or a probe command (``/proc/PID/environ`` is readable by
the same user). The supervisor names those variables after each (re)load with
:func:`set_secret_variables`; every spawn builds from :func:`inherited_environment`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

_secret_variables: frozenset[str] = frozenset()


def set_secret_variables(names: Iterable[str]) -> None:
    """Replace the set of variable names children never inherit."""
    global _secret_variables
    _secret_variables = frozenset(names)


def secret_variables() -> frozenset[str]:
    return _secret_variables


def inherited_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: the supervisor's environment) without the secret variables."""
    base = os.environ if base is None else base
    return {k: v for k, v in base.items() if k not in _secret_variables}


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """What a service's process gets: the inherited environment plus its own ``env``."""
    return {**inherited_environment(), **extra}


def config_secret_variables(config: Any, env: Mapping[str, str]) -> set[str]:
    """Variables holding a secret of ``config``: the ones a ``*password_env`` key names,
    and the ``TRADERCTL_*`` variables that set a secret field."""
    from traderctl.config.loader import ENV_PREFIX
    from traderctl.logs import SECRET_KEYS

    names: set[str] = set()
    for path, value, _origin in config.leaves():
        key = str(path[-1]) if path else ""
        if key.endswith("_env") and SECRET_KEYS.search(key) and isinstance(value, str):
            names.add(value)
    secret_paths = {tuple(str(p).lower() for p in path) for path in config.secret_paths}
    for name in env:
        if name.startswith(ENV_PREFIX) and "__" in name:
            path = tuple(name[len(ENV_PREFIX):].lower().split("__"))
            if path in secret_paths:
                names.add(name)
    return names
