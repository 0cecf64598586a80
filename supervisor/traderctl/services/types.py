"""Service types: ``process`` is built in; plugins add others (``tws``) through a hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from traderctl.config.schema import Field

if TYPE_CHECKING:
    from traderctl.services.runner import ServiceRunner


@dataclass(frozen=True)
class ServiceType:
    """A kind of service.

    ``fields`` are the extra keys the type accepts under ``services.<name>``.
    ``needs_command``: whether ``command`` is required (a ``tws`` service builds its own).
    ``driver``: called with the runner when the supervisor starts the service; returns a
    :class:`traderctl.services.driver.Driver` that decides how to launch, probe and heal it.
    ``api_port``: for types that expose the TWS API, the port a spec listens on (so
    ``ib.port`` can default to it).
    ``validate``: called at load with a converted spec and ``report(key, message)``, for
    rules across keys or against the machine (``tws``: one password source, IBC's
    cold-restart rule); each report is a config problem.
    """

    name: str
    fields: dict[str, Field] = field(default_factory=dict)
    doc: str = ""
    needs_command: bool = True
    driver: Callable[[ServiceRunner], Any] | None = None
    api_port: Callable[[dict[str, Any]], int | None] | None = None
    validate: Callable[[dict[str, Any], Callable[[str, str], None]], None] | None = None

