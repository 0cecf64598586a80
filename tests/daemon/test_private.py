"""data_dir is private (0700/0600) whoever creates it; the supervisor cannot dump core."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.daemon.conftest import child, wait_until
from tests.daemon.test_supervisor import free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ib_status_creates_a_private_cache_under_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "trader.yaml"
    config.write_text(textwrap.dedent(f"""
        supervisor:
          data_dir: {data}
        checks:
          ib_status:
            url: http://127.0.0.1:{free_port()}/status
            retries: 0
            timeout: 1s
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADERCTL_")}
    subprocess.run(["sh", "-c", 'umask 022; exec "$@"', "sh", sys.executable, "-m",
                    "traderctl", "--config", str(config), "ib-status"],
                   capture_output=True, text=True, env=env, timeout=60, check=False)
    cache = data / "cache"
    assert cache.is_dir()
    assert mode(data) == 0o700 and mode(cache) == 0o700
    for entry in cache.iterdir():
        assert mode(entry) & 0o077 == 0, entry


def test_supervise_tightens_the_tree_and_creates_private_files(daemon, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "old.log").write_text("from an older version\n")
    os.chmod(data, 0o755)
    os.chmod(data / "logs", 0o755)
    os.chmod(data / "logs" / "old.log", 0o644)
    d = daemon(f"a:\n  command: {child('sleeper')}\n")
    d.wait_state("a", "running")
    log = data / "logs" / "a.log"
    wait_until(log.exists, 10, "a's log file")
    for path in (data, data / "logs"):
        assert mode(path) == 0o700, path
    for path in (data / "logs" / "old.log", log, data / "state.json", data / "supervisor.lock"):
        assert mode(path) == 0o600, path


def test_supervisor_cannot_dump_core(daemon) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # the supervisor inherits cores on
    try:
        d = daemon(f"a:\n  command: {child('sleeper')}\n")
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    limits = Path(f"/proc/{d.proc.pid}/limits").read_text()
    (core,) = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    assert core.split()[4] == "0", core  # the soft limit
    # the same call in a fresh process, asked back through PR_GET_DUMPABLE
    probe = ("import ctypes; from traderctl.private import harden_process; harden_process(); "
             "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "0"
