"""A cgroup (v2) per service, where the supervisor may create one.

A descendant that double-forks, calls ``setsid`` and clears its environment
leaves the process group and loses the ``TRADERCTL_*`` markers, but it cannot
leave its cgroup. So when the supervisor's own cgroup is writable (systemd with
``Delegate=yes``, or root), each service runs in
``<own cgroup>/traderctl-<owner hash>/svc-<name>``, and stopping the service
kills the whole group (``cgroup.kill``). Elsewhere the marker/subreaper method of
:mod:`traderctl.services.process` is all there is.

A child enters its group before it execs the command: a tiny ``sh`` writes its
own pid into ``cgroup.procs`` and execs, so there is no window to escape in.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import time

from traderctl.logs import get_logger

log = get_logger(__name__)

SHELL = "/bin/sh"
ENTER = 'echo 0 > "$0/cgroup.procs" && exec "$@"'


def own_cgroup_dir() -> str | None:
    """Where this process's cgroup v2 directory is mounted, if there is a v2 hierarchy."""
    mount = root = None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                if right.split()[:1] == ["cgroup2"]:
                    fields = left.split()
                    root, mount = fields[3], fields[4]
                    break
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            path = next((ln[3:].strip() for ln in fh if ln.startswith("0::")), None)
    except OSError:
        return None
    if mount is None or root is None or path is None:
        return None
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return os.path.join(mount, path.lstrip("/"))


class ServiceCgroups:
    """The supervisor's group of service cgroups (``base``), one ``svc-<name>`` each."""

    def __init__(self, base: str) -> None:
        self.base = base

    @classmethod
    def create(cls, owner: str) -> tuple[ServiceCgroups | None, str]:
        """The groups, or None and why not (then the marker method is used alone)."""
        own = own_cgroup_dir()
        if own is None:
            return None, "no cgroup v2 hierarchy is mounted"
        tag = hashlib.sha256(owner.encode()).hexdigest()[:12]
        base = os.path.join(own, f"traderctl-{tag}")
        try:
            os.makedirs(base, exist_ok=True)
        except OSError as exc:
            return None, f"cannot create a cgroup under {own}: {exc.strerror or exc}"
        groups = cls(base)
        reason = groups._probe()
        return (groups, "") if not reason else (None, reason)

    @classmethod
    def setup(cls, owner: str, enabled: bool) -> ServiceCgroups | None:
        """The groups where ``enabled`` and possible; the choice is logged either way."""
        groups, why_not = cls.create(owner) if enabled else (None, "supervisor.cgroups is false")
        if groups is None:
            log.info("cgroups_unavailable", reason=why_not,
                     fallback="process groups, markers and subreaper")
        else:
            log.info("cgroups_enabled", base=groups.base)
        return groups

    def group_or_none(self, service: str) -> str | None:
        """The cgroup a service's next process starts in; None (logged) if it cannot be made."""
        try:
            return self.group(service)
        except OSError as exc:
            log.warning("cgroup_unavailable", service=service, error=str(exc))
            return None

    def _probe(self) -> str:
        """Move a throw-away process the way services are moved; '' if that works."""
        probe = os.path.join(self.base, "probe")
        try:
            os.makedirs(probe, exist_ok=True)
            result = subprocess.run([SHELL, "-c", ENTER, probe, "true"], capture_output=True,
                                    text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"cannot use cgroups: {exc}"
        finally:
            _rmdir(probe)
        if result.returncode != 0:
            return f"cannot move a process into a cgroup: {result.stderr.strip()}"
        return ""

    def group(self, service: str) -> str:
        path = os.path.join(self.base, f"svc-{service}")
        os.makedirs(path, exist_ok=True)
        return path

    def kill_stale(self) -> list[int]:
        """Kill what a previous run of this supervisor left in its groups."""
        killed: list[int] = []
        for name in sorted(os.listdir(self.base)):
            path = os.path.join(self.base, name)
            if name.startswith("svc-") and os.path.isdir(path):
                killed += kill_cgroup(path)
        return killed

    def remove(self) -> None:
        """Remove the (empty) groups at shutdown."""
        for name in os.listdir(self.base):
            if name.startswith("svc-"):
                _rmdir(os.path.join(self.base, name))
        _rmdir(self.base)


def enter_argv(group: str, argv: list[str]) -> list[str]:
    """``argv`` started inside ``group`` (the pid stays the same: sh execs it)."""
    return [SHELL, "-c", ENTER, group, *argv]


def cgroup_pids(group: str) -> list[int]:
    try:
        with open(os.path.join(group, "cgroup.procs"), encoding="ascii") as fh:
            return [int(line) for line in fh if line.strip()]
    except OSError:
        return []


def kill_cgroup(group: str) -> list[int]:
    """SIGKILL every process in ``group`` (``cgroup.kill``, else one by one); their pids."""
    pids = cgroup_pids(group)
    if not pids:
        return []
    try:
        with open(os.path.join(group, "cgroup.kill"), "w", encoding="ascii") as fh:
            fh.write("1")
        return pids
    except OSError:
        pass  # before Linux 5.14: no cgroup.kill
    for _round in range(100):  # a forking process may add members while we kill
        current = cgroup_pids(group)
        if not current:
            break
        for pid in current:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        time.sleep(0.01)
    return pids


async def wait_empty(group: str, timeout: float = 5.0) -> bool:
    """Wait until no process is left in ``group``; False on timeout."""
    deadline = time.monotonic() + timeout
    while cgroup_pids(group):
        if time.monotonic() > deadline:
            log.warning("cgroup_not_empty", group=group, pids=cgroup_pids(group))
            return False
        await asyncio.sleep(0.01)
    return True


def _rmdir(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass
