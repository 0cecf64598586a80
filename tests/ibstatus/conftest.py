"""Fixtures for the ibstatus tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import StatusServer


@pytest.fixture
def server() -> Iterator[StatusServer]:
    srv = StatusServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(timeout=5)
