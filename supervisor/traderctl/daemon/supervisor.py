"""The daemon: owns the service runners, the graph between them, events and the socket."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from traderctl.aiotasks import cancel_and_wait
from traderctl.config import Config
from traderctl.daemon.control import AlreadyRunning, ControlServer, Peer, RequestError
from traderctl.daemon.diskfull import DiskHealth
from traderctl.daemon.eventbus import EventBus, Subscription
from traderctl.daemon.logfiles import LogFiles
from traderctl.daemon.overview import startup_progress, summary
from traderctl.daemon.reload import ReloadQueue, apply_reload
from traderctl.daemon.scheduler import ServiceScheduler
from traderctl.daemon.sdnotify import (
    announce_ready,
    sd_notify,
    status_loop,
    watchdog,
    watchdog_interval,
)
from traderctl.daemon.statefile import StateFile
from traderctl.events import Event
from traderctl.logs import add_secrets, get_logger
from traderctl.plugin.manager import PluginManager
from traderctl.plugin.registry import collect_probe_types, collect_service_types
from traderctl.private import harden_process, private_dirs, tighten
from traderctl.services.cgroup import ServiceCgroups
from traderctl.services.driver import Driver
from traderctl.services.environment import config_secret_variables, set_secret_variables
from traderctl.services.probes import ProbeType
from traderctl.services.process import (
    Child,
    become_subreaper,
    kill_adopted_orphans,
    reap_orphans,
)
from traderctl.services.runner import ServiceRunner
from traderctl.services.spec import ServiceSpec, levels, service_specs, topological_order

log = get_logger(__name__)

QUIET_EVENTS = frozenset({"service_output"})  # go to the bus and files, not to stderr


def hold_lock(path: str) -> Any:
    """An exclusive flock held for the process's life; AlreadyRunning if another has it."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fh = open(fd, "a+")  # held, unclosed, until shutdown
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        owner = fh.read().strip() or "unknown"
        fh.close()
        where = os.path.dirname(path)
        raise AlreadyRunning(f"another supervisor (pid {owner}) uses {where}") from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
    except OSError:
        pass  # a full disk: the lock itself is what counts, the pid is for the message
    return fh


class Supervisor:
    """Runs the services of one config; each runner sees it as its
    :class:`~traderctl.services.host.ServiceHost`."""

    def __init__(self, config: Config, pm: PluginManager,
                 reload_config: Callable[[], Config] | None = None) -> None:
        self.config = config
        self.pm = pm
        self.reload_config = reload_config
        self.data_dir = config.get("supervisor.data_dir")
        self.owner = os.path.realpath(self.data_dir)
        self.service_types = collect_service_types(pm)
        self.probe_types = collect_probe_types(pm)
        self.runners: dict[str, ServiceRunner] = {}
        self.bus = EventBus()
        self.bus.on_drop = self._subscriber_dropped
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()
        self.reloads = ReloadQueue()
        self.started_at = time.time()
        private_dirs(self.data_dir)
        self.disk = DiskHealth(self.emit)
        self.logs = LogFiles(os.path.join(self.data_dir, "logs"),
                             config.get("supervisor.log_max_bytes"),
                             config.get("supervisor.log_backups"), self.disk)
        self.state = StateFile(os.path.join(self.data_dir, "state.json"), self.disk)
        self.control = ControlServer(config.get("supervisor.socket"), self.handle,
                                     audit=lambda name, fields: self.emit(Event(name, fields)))
        self.scheduler = ServiceScheduler(self)
        self.cgroups: ServiceCgroups | None = None
        self.apply_secrets(config)

    # ---- life cycle --------------------------------------------------------------------------

    async def run(self) -> None:
        """Start everything, serve until SIGTERM/SIGINT (or ``shutdown``), stop in order."""
        # one supervisor per data_dir, checked before anything is touched: a second
        # `supervise` by mistake must not kill the first one's children as "stale"
        self.lock = hold_lock(os.path.join(self.data_dir, "supervisor.lock"))
        harden_process()
        tighten(self.data_dir)
        self.cgroups = ServiceCgroups.setup(self.owner, self.config.get("supervisor.cgroups", True))
        stale = self.state.kill_stale(self.owner)
        stale += self.cgroups.kill_stale() if self.cgroups else []
        if stale:
            self.emit(Event("stale_children_killed", {"pids": sorted(set(stale))}))
        become_subreaper()
        await self.control.start()
        self._install_signals()
        self.pm.notify("on_config", config=self.config)
        specs = service_specs(self.config)
        for name in topological_order(specs):
            self.add_runner(name, specs[name])
        self.scheduler.start()
        self.spawn_task(status_loop(self.summary, self._tick))
        if (interval := watchdog_interval()) is not None:
            self.spawn_task(watchdog(interval))
        self.spawn_task(announce_ready(self.startup_progress,
                                       self.config.get("supervisor.ready_timeout", 60.0)))
        self.emit(Event("supervisor_started", {"pid": os.getpid(), "socket": self.control.path,
                                               "services": list(self.runners)}))
        try:
            await self.stopping.wait()
        finally:
            await self._shutdown()

    def cgroup_for(self, service: str) -> str | None:
        return self.cgroups.group_or_none(service) if self.cgroups is not None else None

    def request_shutdown(self) -> None:
        self.stopping.set()

    async def _shutdown(self) -> None:
        sd_notify("STOPPING=1", "STATUS=stopping services")
        self.emit(Event("supervisor_stopping", {}))
        self.scheduler.stop()
        try:
            async with self.reloads.lock:  # a reload in progress finishes first, none after
                await self.stop_services(list(self.runners))
        finally:
            await self.control.close()  # the socket goes, whatever happened above
        kill_adopted_orphans(self._managed_pids())
        if self.cgroups is not None:
            self.cgroups.remove()
        await cancel_and_wait(list(self.tasks))
        self._remove_signals()
        self.emit(Event("supervisor_stopped", {}))
        self.pm.notify("on_shutdown")
        self.lock.close()
        self.logs.close()

    async def stop_services(self, names: list[str]) -> None:
        """Stop and remove runners, dependents first (reverse topological order, by level)."""
        for level in reversed(levels({n: r.spec for n, r in self.runners.items()}, names)):
            await asyncio.gather(*(self.runners[n].shutdown() for n in level))
            for name in level:
                self.runners.pop(name, None)

    def add_runner(self, name: str, spec: ServiceSpec) -> None:
        old = self.runners.get(name)
        if old is not None and (old.child is not None or (old.task and not old.task.done())):
            # an untracked second copy is the worst thing a supervisor can do (two TWS
            # logins with one account): refuse loudly instead
            raise RuntimeError(f"runner {name} replaced while it is still alive")
        runner = ServiceRunner(name, spec, self)
        self.runners[name] = runner
        runner.task = self.spawn_task(runner.run())

    def spawn_task(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("supervisor_task_crashed", error=repr(exc), exc_info=exc)
            self.request_shutdown()  # a crashed runner must not fail silently

    def make_driver(self, runner: ServiceRunner) -> Driver:
        service_type = self.service_types.get(runner.spec["type"])
        if service_type is not None and service_type.driver is not None:
            return service_type.driver(runner)
        return Driver(runner)

    def probe_type(self, kind: str) -> ProbeType:
        return self.probe_types[kind]

    def service_dir(self, name: str) -> str:
        return os.path.join(self.data_dir, "services", name)

    # ---- signals ------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_shutdown)
        loop.add_signal_handler(signal.SIGINT, self.request_shutdown)
        loop.add_signal_handler(signal.SIGHUP, lambda: self.spawn_task(self._reload_on_signal()))
        loop.add_signal_handler(signal.SIGCHLD, self._reap)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            loop.remove_signal_handler(sig)

    def _managed_pids(self) -> set[int]:
        return {r.child.pid for r in self.runners.values() if r.child}

    def _reap(self) -> None:
        for pid in reap_orphans(self._managed_pids()):
            log.debug("orphan_reaped", pid=pid)

    # ---- graph and state ------------------------------------------------------------------------

    def missing_dependencies(self, name: str) -> list[str]:
        deps = self.runners[name].spec["depends_on"]
        return [d for d in deps if d not in self.runners or self.runners[d].state != "running"]

    def dependents(self, name: str) -> list[ServiceRunner]:
        return [r for r in self.runners.values() if name in r.spec["depends_on"]]

    def state_changed(self, runner: ServiceRunner, old: str, reason: str) -> None:
        child, last = runner.child, runner.last_exit or {}
        fields = {"service": runner.name, "from": old, "to": runner.state,
                  "detail": runner.detail, "reason": reason,
                  "pid": child.pid if child else last.get("pid"),
                  "exit_code": None if child else last.get("exit_code"),
                  "signal": None if child else last.get("signal"),
                  "restarts": runner.restarts}
        self.emit(Event("service_state" if old != runner.state else "service_detail", fields))
        if old == "running" and runner.state != "running":
            for dependent in self.dependents(runner.name):
                dependent.dependency_lost(runner.name, runner.state)
        elif runner.state == "running" and old != "running":
            for dependent in self.dependents(runner.name):
                dependent.poke()

    def record_child(self, name: str, child: Child | None) -> None:
        self.state.set_child(name, child.pid if child else None,
                             child.create_time if child else None)

    def child_output(self, runner: ServiceRunner, stream: str, line: str) -> None:
        event = Event("service_output", {"service": runner.name, "stream": stream, "line": line})
        self.logs.get(runner.name).write(event.ts, stream, line)
        self.emit(event)

    def emit(self, event: Event) -> None:
        if event.name not in QUIET_EVENTS:
            log.info(event.name, **event.fields)
        self.bus.publish(event)
        self.pm.notify("on_event", event=event)

    def _subscriber_dropped(self, sub: Subscription) -> None:
        log.warning("subscriber_dropped", reason="not reading fast enough")

    def startup_progress(self) -> tuple[bool, str]:
        return startup_progress(self.runners.values(), self.disk)

    def summary(self) -> str:
        return summary(self.runners.values(), self.disk)

    def _tick(self) -> None:
        """Every second: the state file and the disk get their retries."""
        self.state.retry()  # after a full disk: the state file is written once there is room
        self.disk.poll()

    # ---- reload -----------------------------------------------------------------------------

    async def _reload_on_signal(self) -> None:
        try:
            await self.reload("SIGHUP")
        except RequestError:
            pass  # already reported as reload_refused; the running config stays

    def apply_secrets(self, config: Config) -> None:
        """Mask the secret values in logs and keep their variables from every child."""
        add_secrets(config.secret_values())
        set_secret_variables(config_secret_variables(config, os.environ))

    async def reload(self, source: str) -> dict[str, Any]:
        """Apply the config file again (serialized and merged, see :class:`ReloadQueue`)."""
        if self.reload_config is None:
            raise RequestError("this supervisor was started without a config source")
        return await self.reloads.submit(lambda: apply_reload(self, source))

    # ---- control requests ---------------------------------------------------------------------

    async def handle(self, request: dict[str, Any], peer: Peer) -> Any:
        from traderctl.daemon.handlers import dispatch

        return await dispatch(self, request, peer)

    def runner(self, name: str) -> ServiceRunner:
        if name not in self.runners:
            raise RequestError(f"no such service: {name}")
        return self.runners[name]
