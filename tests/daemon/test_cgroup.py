"""A descendant that double-forks, calls setsid and clears its environment dies with its
service: by its cgroup where the supervisor may create one, else on shutdown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.daemon.conftest import child, wait_until
from traderctl.services.cgroup import ServiceCgroups


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def escaped_pid(pids: Path) -> int:
    wait_until(lambda: pids.exists() and pids.read_text().strip(), 10, "the escaped pid")
    pid = int(pids.read_text().split()[0])
    assert alive(pid)
    wait_until(lambda: "TRADERCTL" not in Path(f"/proc/{pid}/environ").read_text(), 5,
               "the escaped process to clear its environment")
    return pid


@pytest.fixture
def cgroups_here(tmp_path: Path) -> None:
    groups, why_not = ServiceCgroups.create(str(tmp_path / "probe-owner"))
    if groups is None:
        pytest.skip(f"cannot create cgroups here: {why_not}")
    groups.remove()


def test_stop_kills_the_whole_cgroup(cgroups_here: None, daemon, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    d = daemon(f"escaper:\n  command: {child('escaper', pids)}\n")
    d.wait_state("escaper", "running")
    pid = escaped_pid(pids)
    cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    assert "svc-escaper" in cgroup
    d.client.call("stop", names=["escaper"])
    d.wait_state("escaper", "stopped")
    wait_until(lambda: not alive(pid), 5, "the escaped descendant to die")


def test_stale_cgroup_members_are_killed_at_start(cgroups_here: None, daemon,
                                                   tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    d = daemon(f"escaper:\n  command: {child('escaper', pids)}\n")
    d.wait_state("escaper", "running")
    pid = escaped_pid(pids)
    d.proc.kill()  # SIGKILL: the main process dies with it (pdeathsig), the escapee does not
    d.proc.wait()
    assert alive(pid)
    pids.unlink()
    d.start()
    wait_until(lambda: not alive(pid), 10, "the stale escapee to die")
    assert pid in d.events("stale_children_killed")[0]["pids"]


def test_shutdown_kills_an_escapee_without_cgroups(daemon, tmp_path: Path) -> None:
    """The fallback: the escapee was re-parented to the supervisor (a subreaper)."""
    pids = tmp_path / "pids"
    d = daemon(f"escaper:\n  command: {child('escaper', pids)}\n", extra="cgroups: false\n")
    d.wait_state("escaper", "running")
    pid = escaped_pid(pids)
    assert "svc-escaper" not in Path(f"/proc/{pid}/cgroup").read_text()
    assert d.stop() == 0
    wait_until(lambda: not alive(pid), 5, "the escaped descendant to die")
    assert os.getpid()  # nothing else is left: the fixture checks every marked process
