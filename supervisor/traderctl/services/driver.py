"""How a service of a given type is launched, probed and healed.

The runner owns the life cycle; a driver answers the type-specific questions.
:class:`Driver` serves the ``process`` type from the service spec alone; the
``tws`` type subclasses it to render IBC's ini, probe the API session and try
IBC's soft remedies before a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traderctl.services.environment import child_environment
from traderctl.services.probes import ProbeFunc, ProbeResult

if TYPE_CHECKING:
    from traderctl.services.process import Child
    from traderctl.services.runner import ServiceRunner
    from traderctl.services.spec import ProbeConfig, ServiceSpec


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None


@dataclass(frozen=True)
class ProbeSettings:
    probe: ProbeFunc
    timeout: float
    interval: float
    failures: int = 1
    initial_delay: float = 0.0
    #: liveness only: probes start every ``interval`` whatever they take (a slow failing
    #: probe does not stretch the time to detection); otherwise ``interval`` is the pause
    #: between the end of one probe and the start of the next
    fixed_rate: bool = False


class Driver:
    def __init__(self, runner: ServiceRunner) -> None:
        self.runner = runner
        self.spec: ServiceSpec = runner.spec

    async def prepare(self) -> Launch:
        """Argv, environment and cwd for the next spawn."""
        command = self.spec["command"] or []  # required for the types that come here
        argv = ["/bin/sh", "-c", " ".join(command)] if self.spec["shell"] else command
        return Launch(list(argv), child_environment(self.spec["env"]), self.spec["cwd"])

    def readiness(self) -> ProbeSettings | None:
        return self._probe_settings(self.spec["readiness"])

    def liveness(self) -> ProbeSettings | None:
        return self._probe_settings(self.spec["liveness"])

    def _probe_settings(self, probe: ProbeConfig | None) -> ProbeSettings | None:
        if not probe:
            return None
        kind = self.runner.host.probe_type(probe["kind"])
        return ProbeSettings(kind.build(probe["value"], self.runner), probe["timeout"],
                             probe["interval"], probe.get("failures", 1),
                             probe.get("initial_delay", 0.0))

    async def hold_reason(self) -> str | None:
        """A reason not to start now (the TWS type waits out IB platform outages)."""
        return None

    async def remedy(self, result: ProbeResult, failures: int) -> bool:
        """Liveness failed ``failures`` times: True if healed in place, False to restart."""
        return False

    def observed(self, result: ProbeResult, failures: int) -> None:
        """Every liveness result, for drivers that track more than pass/fail."""

    def on_output(self, stream: str, line: str) -> None:
        """Every line the child writes (IBC reports its login progress there)."""

    def waiting_on(self) -> str | None:
        """Set while the service waits on something outside it (a second factor on a phone).

        While set, the readiness deadline stands still and failed liveness probes are not
        counted, so nothing is restarted and no backoff is counted.
        """
        return None

    def give_up(self) -> str | None:
        """A reason to stop trying: the runner stops the child and goes ``failed`` at once,
        without backoff, until an operator starts the service again."""
        return None

    def running_task(self) -> Awaitable[str] | None:
        """Extra work while the service is running (an observer connection), cancelled when
        the run ends; if it returns, its text ends the run like a failed liveness probe."""
        return None

    async def before_stop(self, child: Child) -> None:
        """Ask the child to exit its own way before the stop signal (IBC's STOP command)."""

    def exit_detail(self, code: int) -> str | None:
        """The state detail for an exit on the child's own (None: the generic text)."""
        return None

    def starting_detail(self) -> str:
        return ""

    def running_detail(self) -> str:
        return ""

    def status_fields(self) -> dict[str, Any]:
        return {}
