"""Fixtures: a real fake venue on 127.0.0.1 and the real client talking to it over TCP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from traderctl_b2c2.rest import RestClient
from traderctl_b2c2.sim import FakeVenue


@pytest.fixture
def venue() -> Iterator[FakeVenue]:
    with FakeVenue(price_interval=0.02) as v:
        yield v


@pytest.fixture
def client(venue: FakeVenue) -> Iterator[RestClient]:
    with RestClient(venue.api_url, venue.token, timeout=5, sleep=lambda s: None) as c:
        yield c

