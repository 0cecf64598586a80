"""Child processes: spawn, notice the exit without polling, and kill a whole tree.

* Each child gets its own process group and ``PR_SET_PDEATHSIG``, so it dies
  with the supervisor even if the supervisor is SIGKILLed.
* Exit detection uses a pidfd registered with the event loop: the loop wakes
  the moment the child exits (no SIGCHLD races, no waitpid polling).
* Where the supervisor may create cgroups, each service runs in its own
  (:mod:`traderctl.services.cgroup`) and stopping it kills the whole cgroup.
* Everywhere, every child and its descendants carry ``TRADERCTL_SERVICE`` in their
  environment, so descendants that left the group (``setsid``, double fork)
  can still be found and killed, and stale ones found after a crash.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from traderctl.logs import get_logger
from traderctl.services.cgroup import enter_argv, kill_cgroup, wait_empty
from traderctl.services.environment import inherited_environment

log = get_logger(__name__)

MARKER = "TRADERCTL_SERVICE"
MARKER_OWNER = "TRADERCTL_OWNER"
MARKER_RUN = "TRADERCTL_RUN"
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MAX_LINE = 64 * 1024

_libc = ctypes.CDLL(None, use_errno=True)

LineCallback = Callable[[str, str], None]


def become_subreaper() -> None:
    """Orphaned descendants of our children are re-parented to us, not to init."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _setpriv() -> str | None:
    import shutil

    return shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")


# util-linux's setpriv sets PR_SET_PDEATHSIG and execs the command: subprocess can then
# vfork (no preexec_fn), which takes the restart of a crashed service from ~20 ms to a few.
SETPRIV = _setpriv()


def _with_death_signal(argv: list[str], cwd: str | None, env: dict[str, str]
                       ) -> tuple[list[str], Callable[[], None] | None]:
    if SETPRIV is None:
        return argv, _die_with_parent(os.getpid())
    import shutil

    exe = argv[0]
    if "/" not in exe:
        found = shutil.which(exe, path=env.get("PATH", os.defpath))
        if found is None:
            raise FileNotFoundError(f"{exe}: command not found")
        exe = found
    elif not os.access(os.path.join(cwd or "", exe), os.X_OK):
        raise FileNotFoundError(f"{exe}: not an executable file")
    return [SETPRIV, "--pdeathsig", "KILL", "--", exe, *argv[1:]], None


def _die_with_parent(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)
    return preexec


@dataclass
class Child:
    """A running child: its pid, process group, start time and exit future."""

    popen: subprocess.Popen[bytes]
    service: str
    run_id: str
    create_time: float
    exited: asyncio.Future[int]
    pumps: list[asyncio.Task[None]] = field(default_factory=list)
    cgroup: str | None = None  # the service's cgroup, when the supervisor may create one

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode


async def spawn(argv: list[str], *, service: str, owner: str, cwd: str | None = None,
                env: dict[str, str] | None = None, on_line: LineCallback | None = None,
                cgroup: str | None = None) -> Child:
    """Start ``argv`` in its own process group (and ``cgroup``, if given); raises OSError
    if it cannot be executed."""
    loop = asyncio.get_running_loop()
    run_id = os.urandom(6).hex()
    full_env = {**(env if env is not None else inherited_environment()),
                MARKER: service, MARKER_OWNER: owner, MARKER_RUN: run_id}
    argv, preexec = _with_death_signal(argv, cwd, full_env)
    if cgroup is not None:
        argv = enter_argv(cgroup, argv)
    popen = subprocess.Popen(  # noqa: ASYNC220 (returns at exec; vfork path)
        argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0,
        preexec_fn=preexec, close_fds=True,
    )
    try:
        create_time = psutil.Process(popen.pid).create_time()
    except psutil.Error:
        create_time = time.time()
    child = Child(popen, service, run_id, create_time, loop.create_future(), cgroup=cgroup)
    _watch_exit(loop, child)
    for stream, pipe in (("stdout", popen.stdout), ("stderr", popen.stderr)):
        child.pumps.append(asyncio.ensure_future(_pump(pipe, stream, on_line)))
    return child


def _watch_exit(loop: asyncio.AbstractEventLoop, child: Child) -> None:
    pidfd = os.pidfd_open(child.pid)

    def on_exit() -> None:
        loop.remove_reader(pidfd)
        os.close(pidfd)
        code = child.popen.wait()  # reaps at once: the pidfd says it has exited
        if not child.exited.done():
            child.exited.set_result(code)

    loop.add_reader(pidfd, on_exit)


def _deliver(on_line: LineCallback | None, stream: str, line: str) -> None:
    """A failing consumer (a log write, a driver) must not stop the pump: the child would
    then die of EPIPE on its next write."""
    if on_line is None:
        return
    try:
        on_line(stream, line)
    except Exception as exc:
        log.error("output_line_lost", stream=stream, error=repr(exc))


async def _pump(pipe: Any, stream: str, on_line: LineCallback | None) -> None:
    """Forward a pipe line by line until EOF; runs until the child closes its end."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE, loop=loop)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    try:
        while True:
            try:
                raw = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                raw = exc.partial
                if raw:
                    _deliver(on_line, stream, raw.decode(errors="replace"))
                break
            except asyncio.LimitOverrunError as exc:
                raw = await reader.readexactly(exc.consumed)
            _deliver(on_line, stream, raw.decode(errors="replace").rstrip("\r\n"))
    finally:
        transport.close()


async def close_pumps(child: Child, timeout: float = 1.0) -> None:
    """Wait for the output pumps to drain; cancel them if a descendant holds the pipe open."""
    if not child.pumps:
        return
    _done, pending = await asyncio.wait(child.pumps, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*child.pumps, return_exceptions=True)
    child.pumps.clear()


def marked_processes(owner: str, run_id: str | None = None) -> list[psutil.Process]:
    """Processes carrying our marker (optionally of one run of a service), wherever they are."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if env.get(MARKER_OWNER) == owner and (run_id is None or env.get(MARKER_RUN) == run_id):
            found.append(proc)
    return found


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


async def terminate_tree(child: Child, sig: int, timeout: float, owner: str) -> int:
    """Signal the group, wait up to ``timeout``, then SIGKILL group and stray descendants.

    Returns the main process's exit code (negative: killed by that signal).
    """
    tree = descendants(child.pid)
    _killpg(child.pid, sig)
    try:
        code = await asyncio.wait_for(asyncio.shield(child.exited), timeout)
    except TimeoutError:
        log.warning("service_stop_timeout", service=child.service, pid=child.pid,
                    timeout=timeout)
        _killpg(child.pid, signal.SIGKILL)
        code = await child.exited
    leftovers = {p.pid: p for p in tree}
    leftovers.update({p.pid: p for p in marked_processes(owner, child.run_id)})
    kill_all(list(leftovers.values()))
    await kill_cgroup_of(child)
    await close_pumps(child)
    return code


async def kill_cgroup_of(child: Child) -> None:
    """Whatever is left in the child's cgroup (escaped or not) dies, and is gone on return."""
    if child.cgroup is not None:
        if killed := kill_cgroup(child.cgroup):
            log.info("service_cgroup_killed", service=child.service, pids=killed)
        await wait_empty(child.cgroup)


def kill_all(procs: list[psutil.Process]) -> None:
    """SIGKILL whatever is still alive (and is still the same process) and reap our own."""
    for proc in procs:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(procs, timeout=2)


def kill_group(child: Child) -> None:
    """After an unplanned exit: whatever is left in the child's group and cgroup dies too."""
    _killpg(child.pid, signal.SIGKILL)
    if child.cgroup is not None:
        kill_cgroup(child.cgroup)


async def clean_after_exit(child: Child, owner: str, delay: float = 0.5) -> None:
    """Find and kill descendants of an exited child that left its group (off the loop).

    Runs ``delay`` later so the scan does not compete with starting the replacement.
    """
    await asyncio.sleep(delay)
    strays = await asyncio.to_thread(marked_processes, owner, child.run_id)
    if strays:
        log.warning("service_strays_killed", service=child.service, pids=[p.pid for p in strays])
        await asyncio.to_thread(kill_all, strays)
    await close_pumps(child)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def kill_adopted_orphans(managed: set[int]) -> None:
    """With every service stopped, a child of ours that is not ``managed`` is a descendant
    that escaped its service (re-parented to us, the subreaper), even one that cleared its
    markers: killed."""
    leftovers = [p for p in psutil.Process().children() if p.pid not in managed]
    if leftovers:
        log.warning("escaped_descendants_killed", pids=[p.pid for p in leftovers])
        kill_all(leftovers)


def reap_orphans(managed: set[int]) -> list[int]:
    """Reap exited descendants re-parented to us (we are a subreaper) that we do not manage."""
    reaped = []
    for proc in psutil.Process().children():
        if proc.pid in managed:
            continue
        try:
            pid, _status = os.waitpid(proc.pid, os.WNOHANG)
        except ChildProcessError:
            continue
        if pid:
            reaped.append(pid)
    return reaped


async def run_command(argv: list[str], *, cwd: str | None = None,
                      env: dict[str, str] | None = None, timeout: float | None = None,
                      service: str = "probe", owner: str = "") -> tuple[int, str]:
    """Run a short command (probe, notifier) to completion; returns (exit code, output)."""
    lines: list[str] = []
    child = await spawn(argv, service=service, owner=owner or f"cmd-{os.getpid()}", cwd=cwd,
                        env=env, on_line=lambda _stream, line: lines.append(line))
    try:
        code = await asyncio.wait_for(asyncio.shield(child.exited), timeout)
    except (TimeoutError, asyncio.CancelledError):
        _killpg(child.pid, signal.SIGKILL)
        await child.exited
        await close_pumps(child)
        raise
    await close_pumps(child)
    return code, "\n".join(lines[-50:])
