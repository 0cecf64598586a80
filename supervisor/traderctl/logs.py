"""Logging: structlog to stderr, JSON when stderr is not a terminal, readable when it is.

``get_logger`` returns a lazy logger: structlog (which pulls in rich and asyncio,
~150 ms here) is imported the first time something is actually logged, so
commands that log nothing stay fast. :func:`configure_logging` is called once
by the CLI at start-up; standard-library logging (ib_async, apscheduler) is
bridged into the same stream, and a redaction step masks secret values.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

LEVELS = ("debug", "info", "warning", "error")
SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api_?key|authorization|credential", re.I)
MASK = "***"

_secrets: set[str] = set()
_settings: dict[str, Any] = {"level": "info", "fmt": "auto", "stream": None}
_configured = False


def add_secrets(values: Iterable[str]) -> None:
    """Register secret values (passwords, API keys, webhook URLs) to mask wherever they
    appear. A URL's token usually sits in its path or query, and error texts quote those
    alone (``Max retries exceeded with url: /services/T0/B0/xyz``): they are masked too."""
    for value in values:
        if value and len(value) >= 3:
            _secrets.add(value)
            _secrets.update(_url_parts(value))


def _url_parts(value: str) -> set[str]:
    if "://" not in value:
        return set()
    from urllib.parse import unquote, urlsplit

    try:
        url = urlsplit(value)
    except ValueError:
        return set()
    parts = {url.path + ("?" + url.query if url.query else ""), url.path, url.query,
             url.password or ""}
    parts |= {unquote(p) for p in parts}
    return {p for p in parts if len(p.strip("/")) >= 6}


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: mask secret-looking keys and every known secret value,
    inside lists and nested mappings (and formatted exceptions) too."""
    for key, value in list(event_dict.items()):
        event_dict[key] = redact_value(key, value)
    return event_dict


def redact_value(key: str, value: Any, depth: int = 0) -> Any:
    """``value`` with secrets masked; ``key`` is the name it is filed under."""
    if SECRET_KEYS.search(key) and value not in (None, "", MASK) and \
            not isinstance(value, dict | list | tuple):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if depth > 20:
        return redact_text(repr(value))
    if isinstance(value, dict):
        return {k: redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value("", v, depth + 1) for v in value]
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


def redact_text(text: str) -> str:
    # longest first: a whole URL is masked before its path would leave the host behind
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Record the settings; structlog itself is set up on first use (or now, if already used)."""
    global _configured
    _settings.update(level=level, fmt=fmt, stream=stream)
    _configured = False
    if "structlog" in sys.modules:
        _setup()


def _setup() -> None:
    global _configured
    import logging

    import structlog

    stream = _settings["stream"] or sys.stderr
    use_json = _settings["fmt"] == "json" or (_settings["fmt"] == "auto" and not _isatty(stream))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    # exceptions are turned into data before redaction: their texts carry URLs and tokens
    if use_json:
        renderer = structlog.processors.JSONRenderer(default=str)
        shared += [structlog.processors.dict_tracebacks, redact]
    else:  # for a person: no empty fields, `from -> to` in that order
        shared += [structlog.processors.format_exc_info, readable, redact]
        renderer = structlog.dev.ConsoleRenderer(colors=_isatty(stream), sort_keys=False)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_traderctl", False)]:
        root.removeHandler(old)
    handler._traderctl = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(_settings["level"].upper())
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    _configured = True


def readable(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Console lines only: drop empty fields; a state change reads ``svc: from -> to``."""
    for key in [k for k, v in event_dict.items() if v is None or v in ("", [], {})]:
        del event_dict[key]
    if "from" in event_dict and "to" in event_dict:
        service = event_dict.pop("service", "")
        change = f"{event_dict.pop('from')} -> {event_dict.pop('to')}"
        event_dict["event"] = f"{event_dict['event']} {service}: {change}".replace(" : ", " ")
    return event_dict


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LazyLogger:
    """A structlog logger that costs nothing until the first call."""

    def __init__(self, name: str, context: dict[str, Any] | None = None) -> None:
        self._name = name
        self._context = context or {}

    def bind(self, **values: Any) -> LazyLogger:
        return LazyLogger(self._name, {**self._context, **values})

    def __getattr__(self, method: str) -> Any:
        if not _configured:
            _setup()
        import structlog

        return getattr(structlog.get_logger(self._name).bind(**self._context), method)


def get_logger(name: str) -> LazyLogger:
    return LazyLogger(name)
