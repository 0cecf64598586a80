"""Fixtures for the checks: a simulated TWS and a real supervisor.

The simulator fixture is imported from ``traderctl.pytest_plugin`` (``pytest_plugins`` may only
be set in the top-level conftest); the supervisor fixture is the daemon tests' own.
"""

from tests.daemon.conftest import daemon
from traderctl.pytest_plugin import sim_tws, sim_tws_config

__all__ = ["daemon", "sim_tws", "sim_tws_config"]
