"""pytest plugin: the ``sim_tws`` fixture (a running simulated TWS).

Registered as a ``pytest11`` entry point; inside this repo's own tests use
``pytest_plugins = ["traderctl.pytest_plugin"]``. The fixture yields a
:class:`traderctl.simulator.SimTWSThread` listening on a free 127.0.0.1 port:
``sim_tws.host``/``.port`` to connect, blocking control methods
(``freeze()``, ``set_delay()``, ``drop_connections()``, ``set_farm()``, ...),
and ``sim_tws.orders`` / ``sim_tws.requests`` to inspect what arrived.
Starting one takes milliseconds, so it is function scoped.

Options come from the ``sim_tws_config`` fixture (override it in a test
module or conftest to change them) or from ``@pytest.mark.sim_tws(...)``
keyword arguments on a test, which win::

    @pytest.mark.sim_tws(time_scale=0.01, scenario_path="s.yaml")
    def test_pacing(sim_tws): ...

``sim_tws_factory`` starts further simulators (e.g. with a Scenario object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from traderctl.simulator.threaded import SimTWSThread


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_tws(**options): options for the sim_tws fixture (SimConfig fields)"
    )


@pytest.fixture
def sim_tws_config() -> dict[str, Any]:
    """Default SimConfig keyword arguments for ``sim_tws``."""
    return {}


@pytest.fixture
def sim_tws(
    request: pytest.FixtureRequest, sim_tws_config: dict[str, Any]
) -> Iterator[SimTWSThread]:
    """A simulated TWS on 127.0.0.1:<free port>, stopped after the test."""
    options = {"host": "127.0.0.1", "port": 0, **sim_tws_config}
    marker = request.node.get_closest_marker("sim_tws")
    if marker is not None:
        options.update(marker.kwargs)
    sim = SimTWSThread(**options).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim_tws_factory() -> Iterator[Callable[..., SimTWSThread]]:
    """Start extra simulators with any SimConfig options; all stopped after the test."""
    started: list[SimTWSThread] = []

    def make(**options: Any) -> SimTWSThread:
        sim = SimTWSThread(**{"host": "127.0.0.1", "port": 0, **options}).start()
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in reversed(started):
            sim.stop()
