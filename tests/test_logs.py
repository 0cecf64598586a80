"""Logging: JSON lines when stderr is not a terminal, stdlib bridged, secrets redacted."""

from __future__ import annotations

import io
import json
import logging

import pytest

from traderctl.logs import add_secrets, configure_logging, get_logger


@pytest.fixture
def stream():
    buf = io.StringIO()
    configure_logging("debug", "auto", stream=buf)
    yield buf
    configure_logging("info", "auto")


def records(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_json_lines_with_stable_event_names(stream) -> None:
    get_logger("t").info("service_started", service="web", pid=42)
    (rec,) = records(stream)
    assert rec["event"] == "service_started" and rec["service"] == "web" and rec["pid"] == 42
    assert rec["level"] == "info" and rec["timestamp"].endswith("Z")


def test_stdlib_logging_is_bridged(stream) -> None:
    logging.getLogger("ib_async.client").warning("Peer closed connection")
    (rec,) = records(stream)
    assert rec["event"] == "Peer closed connection" and rec["logger"] == "ib_async.client"


def test_secrets_are_redacted_by_value_and_by_key(stream) -> None:
    add_secrets(["hunter2-password"])
    log = get_logger("t")
    log.info("login", password="plain", note="user typed hunter2-password here")
    logging.getLogger("x").info("argv --pw=hunter2-password")
    text = stream.getvalue()
    assert "hunter2-password" not in text and "plain" not in text
    first, second = records(stream)
    assert first["password"] == "***" and first["note"] == "user typed *** here"
    assert second["event"] == "argv --pw=***"


def test_level_filters(stream) -> None:
    configure_logging("warning", "json", stream=stream)
    get_logger("t").info("quiet")
    get_logger("t").warning("loud")
    assert [r["event"] for r in records(stream)] == ["loud"]


def test_console_format_is_readable() -> None:
    buf = io.StringIO()
    configure_logging("info", "console", stream=buf)
    get_logger("t").info("service_started", service="web")
    configure_logging("info", "auto")
    line = buf.getvalue()
    assert "service_started" in line and "service=web" in line and not line.startswith("{")


def test_secrets_in_lists_nested_mappings_and_exceptions_are_redacted(stream) -> None:
    url = "https://hooks.example.com/services/T0/B0/w3bh00k-token"
    add_secrets([url])
    try:
        raise ConnectionError("Max retries exceeded with url: /services/T0/B0/w3bh00k-token")
    except ConnectionError as exc:
        get_logger("t").warning("notification_failed", error=str(exc), exc_info=exc,
                                targets=[{"name": "hook", "url": url}],
                                nested={"deeper": [("x", url)], "api_key": "literal"})
    text = stream.getvalue()
    assert "w3bh00k-token" not in text and "literal" not in text
    (rec,) = records(stream)
    assert rec["targets"] == [{"name": "hook", "url": "***"}]
    assert rec["nested"] == {"deeper": [["x", "***"]], "api_key": "***"}
