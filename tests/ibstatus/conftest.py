"""Fixtures for the ibstatus tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import StatusServer


@pytest.fixture
def server() -> Iterator[StatusServer]:
    with StatusServer() as srv:
        yield srv
