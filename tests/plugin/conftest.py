"""Fixtures for the plugin host tests: the daemon tests' real supervisor."""

from tests.daemon.conftest import daemon

__all__ = ["daemon"]
