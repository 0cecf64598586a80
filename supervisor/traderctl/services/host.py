"""What a service runner and its driver need from whoever runs them: the service host.

:class:`ServiceHost` is the whole of it. The daemon's
:class:`~traderctl.daemon.supervisor.Supervisor` implements it (structurally: it
names no class of ``services/``), and a test can pass a small double of its own. A
runner never sees the supervisor's other parts (the socket, the scheduler, the
plugin manager, the other runners), so ``services/`` imports nothing from
``daemon/``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from traderctl.config.loader import Config
    from traderctl.events import Event
    from traderctl.services.driver import Driver
    from traderctl.services.probes import ProbeType
    from traderctl.services.process import Child
    from traderctl.services.runner import ServiceRunner


class ServiceHost(Protocol):
    """The runner's and the driver's window on the supervisor."""

    @property
    def owner(self) -> str:
        """The marker every child carries (the data dir's real path): a stop kills only
        processes of this owner, and stale ones are found by it."""
        ...

    @property
    def config(self) -> Config:
        """The effective configuration (a new one after each reload)."""
        ...

    def service_dir(self, name: str) -> str:
        """The service's own folder under the data dir (it may not exist yet)."""
        ...

    def emit(self, event: Event) -> None:
        """Publish an event: the log, ``traderctl events``, the plugins' ``on_event``."""
        ...

    def spawn_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the host tracks: cancelled at shutdown, a crash logged."""
        ...

    def make_driver(self, runner: ServiceRunner) -> Driver:
        """The driver of the runner's service type."""
        ...

    def probe_type(self, kind: str) -> ProbeType:
        """The probe kind ``kind`` (``after``, ``tcp``, ``command`` or a plugin's)."""
        ...

    def missing_dependencies(self, name: str) -> list[str]:
        """The dependencies of service ``name`` that are not ``running`` now."""
        ...

    def cgroup_for(self, name: str) -> str | None:
        """The cgroup the service's next process starts in (None: no cgroups here)."""
        ...

    def record_child(self, name: str, child: Child | None) -> None:
        """Remember the service's child (or that it has none) across a host crash."""
        ...

    def state_changed(self, runner: ServiceRunner, old: str, reason: str) -> None:
        """The runner's state or detail changed (from ``old``)."""
        ...

    def child_output(self, runner: ServiceRunner, stream: str, line: str) -> None:
        """One line the service's child wrote on ``stream`` (stdout or stderr)."""
        ...
