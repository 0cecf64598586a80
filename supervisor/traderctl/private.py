"""Private files under ``data_dir``: folders 0700, files 0600, whoever creates them first.

The data directory holds logs (which may quote a service's secrets), the state
file, IBC's ini and caches. Any command may be the first to create part of it
(``ib-status`` creates ``cache/`` before the supervisor ever ran), so every
creator goes through :func:`private_dirs`; ``supervise`` calls :func:`tighten`
on the tree to fix what an older version left open.
"""

from __future__ import annotations

import os
import stat

from traderctl.logs import get_logger

log = get_logger(__name__)

DIR_MODE = 0o700


def private_dirs(path: str | os.PathLike[str]) -> None:
    """``mkdir -p`` where every folder created is 0700 whatever the umask."""
    path = os.fspath(path)
    missing = []
    head = os.path.abspath(path)
    while head and not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue  # a concurrent creator won; tighten() fixes its mode if it is ours
        os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask


def tighten(root: str) -> list[str]:
    """Remove group/other access below ``root`` from what we own; returns what changed.

    Symlinks are not followed and entries of other users are left alone.
    """
    changed = []
    uid = os.geteuid()
    for directory, dirs, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, n) for n in dirs + files)]:
            try:
                st = os.lstat(name)
            except OSError:
                continue
            if st.st_uid != uid or stat.S_ISLNK(st.st_mode):
                continue
            if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                continue  # the control socket has its own rules; fifos are not ours
            mode = stat.S_IMODE(st.st_mode)
            want = DIR_MODE if stat.S_ISDIR(st.st_mode) else mode & 0o700
            if mode != want:
                try:
                    os.chmod(name, want)
                except OSError:
                    continue
                changed.append(name)
    if changed:
        log.warning("data_dir_tightened", root=root, count=len(changed), first=changed[:5])
    return changed


def harden_process() -> None:
    """No core dump of this process (it holds passwords): RLIMIT_CORE 0, not dumpable.

    Only the soft core limit is lowered: children inherit 0 but may raise it again.
    ``PR_SET_DUMPABLE`` is reset by ``execve`` in children, so it is ours alone.
    """
    import ctypes
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    pr_set_dumpable = 4
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def private_file(path: str | os.PathLike[str]) -> None:
    """Create ``path`` (and its folders) as a 0600 file if missing, and make it 0600.

    Its folder is made 0700 even when it existed: it will hold the journals too.
    SQLite gives its ``-wal`` and ``-shm`` files the database's mode, so a store
    opened after this is private all the way down.
    """
    folder = os.path.dirname(os.path.abspath(path))
    private_dirs(folder)
    os.chmod(folder, DIR_MODE)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
