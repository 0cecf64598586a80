"""Checks of the running stack: the TWS API answers, the clock agrees with TWS, services run.

``tws`` and ``clock`` share one short API connection per check run (one client id,
``checks.tws.client_id``, cannot be connected twice), made with ``ib_async`` in read-only mode
and always disconnected. They run when a ``tws`` service is configured, or always/never with
``checks.tws.enabled: true/false`` (TWS run outside the supervisor). ``services`` asks the
supervisor over its control socket whether every autostart service is ``running``.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from traderctl.checks import Check, CheckContext, CheckResult
from traderctl.logs import get_logger

log = get_logger(__name__)

#: TWS's currentTime is whole seconds (truncated).
TWS_TIME_RESOLUTION = 1.0
#: States an autostart service passes through on its way up or down: worth a warning only.
TRANSIENT_STATES = frozenset({"waiting", "starting", "stopping"})


def stack_checks() -> list[Check]:
    return [
        Check("tws", tws_api, "The TWS API accepts a connection and answers currentTime."),
        Check("clock", clock_offset, "The local clock agrees with TWS's currentTime."),
        Check("services", services_running, "Every autostart service is running."),
    ]


# ---- TWS API ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwsProbe:
    """One connection to the TWS API: whether it answered, and the clock samples."""

    host: str
    port: int
    client_id: int
    ok: bool
    elapsed: float
    error: str | None = None
    server_version: int | None = None
    server_time: datetime | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host, "port": self.port, "client_id": self.client_id, "ok": self.ok,
            "elapsed": round(self.elapsed, 3), "error": self.error,
            "server_version": self.server_version,
            "server_time": self.server_time.isoformat() if self.server_time else None,
        }


async def probe_tws(host: str, port: int, client_id: int, answer_within: float) -> TwsProbe:
    """Connect read-only, ask currentTime, disconnect. Never raises; takes about
    ``answer_within`` seconds at most (ib_async's own timeouts, plus a safety net)."""
    from ib_async import IB

    from traderctl.tws import session

    ib = IB()
    session.quiet(ib)  # a refused or silent TWS is our verdict, not a line on stderr
    started = time.monotonic()

    def result(ok: bool, error: str | None = None, **fields: Any) -> TwsProbe:
        return TwsProbe(host, port, client_id, ok, time.monotonic() - started, error, **fields)

    timeout = answer_within
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        # ib_async's own timeout ends a hung handshake (and says so in its log); the outer
        # one is a safety net for whatever it does not cover.
        async with asyncio.timeout(timeout + 0.5):
            await session.connect(ib, host, port, client_id, timeout)
            version = ib.client.serverVersion()
            sent_at = datetime.now(UTC)
            server_time = await asyncio.wait_for(ib.reqCurrentTimeAsync(),
                                                 max(deadline - loop.time(), 0.1))
            received_at = datetime.now(UTC)
    except TimeoutError:
        return result(False, f"no answer from {host}:{port} within {timeout:g}s")
    except ConnectionRefusedError:
        return result(False, f"connection refused by {host}:{port}")
    except Exception as exc:  # OSError, ConnectionError (e.g. client id in use), protocol errors
        return result(False, f"{type(exc).__name__}: {exc or 'connection failed'}")
    finally:
        session.close(ib)
    if server_time.tzinfo is None:  # ib_async gives aware UTC; be strict about it anyway
        server_time = server_time.replace(tzinfo=UTC)
    return result(True, server_version=version, server_time=server_time.astimezone(UTC),
                  sent_at=sent_at, received_at=received_at)


def tws_target(config: Any) -> tuple[bool, str]:
    """Whether the TWS checks run, and why (the reason is the summary when they do not)."""
    enabled = config.get("checks.tws.enabled")
    if enabled is False:
        return False, "checks.tws.enabled is false"
    if enabled is True:
        return True, "checks.tws.enabled is true"
    tws = sorted(name for name, spec in (config.get("services") or {}).items()
                 if spec and spec.get("type") == "tws")
    if not tws:
        return False, "no tws service configured (checks.tws.enabled: true checks ib.host/ib.port)"
    return True, f"tws service {', '.join(tws)} configured"


# One probe per check run, shared by the ``tws`` and ``clock`` checks (same client id).
_probes: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Task[TwsProbe]]] = {}


async def shared_probe(ctx: CheckContext) -> TwsProbe:
    """The probe of this check run (``ctx``), started by whichever check asks first."""
    loop = asyncio.get_running_loop()
    key = id(ctx)
    entry = _probes.get(key)
    if entry is None or entry[0] is not loop:
        config = ctx.config
        task = loop.create_task(probe_tws(
            config.get("ib.host"), int(config.get("ib.port")),
            int(config.get("checks.tws.client_id")), float(config.get("checks.tws.timeout"))))
        _probes[key] = (loop, task)
        weakref.finalize(ctx, _probes.pop, key, None)
        entry = (loop, task)
    # shield: one check timing out must not cancel the probe the other one awaits
    return await asyncio.shield(entry[1])


async def tws_api(ctx: CheckContext) -> CheckResult:
    run, why = tws_target(ctx.config)
    if not run:
        return CheckResult("disabled", why)
    probe = await shared_probe(ctx)
    details = probe.to_json()
    where = f"{probe.host}:{probe.port}"
    if not probe.ok:
        return CheckResult("fail", f"TWS API at {where} does not answer: {probe.error}", details)
    return CheckResult("ok", f"TWS API at {where} answered in {probe.elapsed:.2f}s "
                             f"(server version {probe.server_version})", details)


# ---- clock --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockOffset:
    """TWS's clock minus ours, in seconds, as far as one currentTime sample can tell.

    TWS truncates to whole seconds and the answer was produced somewhere between sending and
    receiving, so the offset lies in ``[low, high]``; ``least`` is the smallest offset
    consistent with the sample (0 when the interval contains 0). Only ``least`` is evidence of
    a wrong clock; ``estimate`` is the interval's midpoint.
    """

    low: float
    high: float

    @property
    def estimate(self) -> float:
        return (self.low + self.high) / 2

    @property
    def least(self) -> float:
        if self.low <= 0 <= self.high:
            return 0.0
        return min(abs(self.low), abs(self.high))


def measure_offset(server_time: datetime, sent_at: datetime, received_at: datetime,
                   resolution: float = TWS_TIME_RESOLUTION) -> ClockOffset:
    """Bounds of TWS's clock minus ours from one sample (all aware datetimes)."""
    low = (server_time - received_at).total_seconds()
    high = (server_time - sent_at).total_seconds() + resolution
    return ClockOffset(low, high)


async def clock_offset(ctx: CheckContext) -> CheckResult:
    run, why = tws_target(ctx.config)
    if not run:
        return CheckResult("disabled", why)
    probe = await shared_probe(ctx)
    if not probe.ok or probe.server_time is None or probe.sent_at is None \
            or probe.received_at is None:
        return CheckResult("unknown", f"cannot read TWS's clock: {probe.error}",
                           probe.to_json())
    offset = measure_offset(probe.server_time, probe.sent_at, probe.received_at)
    limit = float(ctx.config.get("checks.clock.max_offset"))
    details = {"offset": round(offset.estimate, 3), "offset_low": round(offset.low, 3),
               "offset_high": round(offset.high, 3), "max_offset": limit,
               "tws_time": probe.server_time.isoformat(),
               "local_time": probe.received_at.isoformat()}
    ahead = "ahead of" if offset.estimate > 0 else "behind"
    if offset.least > limit:
        return CheckResult("fail", f"TWS's clock is {abs(offset.estimate):.1f}s {ahead} ours "
                                   f"(at least {offset.least:.1f}s; limit {limit:g}s)", details)
    return CheckResult("ok", f"clock within {limit:g}s of TWS "
                             f"(offset {offset.low:+.1f}..{offset.high:+.1f}s)", details)


# ---- services -----------------------------------------------------------------------------


def services_running(ctx: CheckContext) -> CheckResult:
    """Every autostart service ``running``, as the supervisor reports it.

    One-shot jobs (``restart: never``) are expected to exit: only a failed last run warns.
    No services configured: disabled. Supervisor unreachable while services are configured:
    unknown (the supervisor may be down, or running with another socket).
    """
    from traderctl.daemon.client import ControlClient, ControlError, DaemonUnreachable

    configured = ctx.config.get("services") or {}
    if not configured:
        return CheckResult("disabled", "no services configured")
    socket_path = ctx.config.get("supervisor.socket")
    try:
        reply = ControlClient(socket_path, timeout=5.0).call("status")
    except DaemonUnreachable as exc:
        return CheckResult("unknown", f"supervisor not reachable: {exc}",
                           {"socket": socket_path})
    except (ControlError, OSError) as exc:
        return CheckResult("unknown", f"supervisor did not answer: {exc}",
                           {"socket": socket_path})
    return judge_services(reply.get("services") or [], configured)


def judge_services(services: list[dict[str, Any]], configured: dict[str, Any]) -> CheckResult:
    """The check's verdict on the supervisor's ``status`` reply."""
    down: list[str] = []
    transient: list[str] = []
    job_failures: list[str] = []
    running = 0
    details: dict[str, Any] = {}
    for svc in services:
        name, state = svc.get("name", "?"), svc.get("state", "?")
        if not svc.get("autostart"):
            continue
        spec = configured.get(name) or {}
        details[name] = {"state": state, "detail": svc.get("detail", "")}
        line = f"{name} is {state}" + (f" ({svc['detail']})" if svc.get("detail") else "")
        if spec.get("restart") == "never" and state != "failed":
            last = svc.get("last_exit") or {}
            if state == "stopped" and (last.get("exit_code") not in (None, 0)
                                       or last.get("signal")):
                job_failures.append(line)
            continue
        if state == "running":
            running += 1
        elif state in TRANSIENT_STATES:
            transient.append(line)
        else:
            down.append(line)
    missing = sorted(n for n, s in configured.items()
                     if s and s.get("autostart") and n not in {x.get("name") for x in services})
    down += [f"{n} is unknown to the supervisor (reload pending?)" for n in missing]
    expected = len(details) + len(missing)
    if not expected:
        return CheckResult("ok", "no autostart services", details)
    if down:
        return CheckResult("fail", "; ".join(down + transient + job_failures), details)
    if transient or job_failures:
        return CheckResult("warn", "; ".join(transient + job_failures), details)
    return CheckResult("ok", f"{running} autostart service{'s' * (running != 1)} running",
                       details)
