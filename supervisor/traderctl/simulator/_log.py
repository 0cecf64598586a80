"""Logger factory: structlog when available, stdlib logging otherwise.

The fake IBC launcher runs under a bare ``python3`` that may not have
structlog installed, so the simulator must not hard-depend on it. Events are
snake_case names with keyword fields in both cases.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

_structlog: ModuleType | None
try:  # pragma: no cover - exercised by whichever interpreter runs us
    import structlog as _structlog
except ImportError:  # pragma: no cover
    _structlog = None


class _StdlibLogger:
    """Minimal structlog look-alike on top of :mod:`logging`."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            extra = " ".join(f"{k}={v!r}" for k, v in fields.items())
            self._logger.log(level, "%s %s", event, extra)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._logger.exception("%s %s", event, fields)


def get_logger(name: str) -> Any:
    """Return a structlog logger, or a stdlib-backed stand-in."""
    if _structlog is not None:
        return _structlog.get_logger(name)
    return _StdlibLogger(name)
