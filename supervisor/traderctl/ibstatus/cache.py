"""A small on-disk cache of status-page fetches shared by every traderctl process.

The CLI, the daemon and scheduled checks are separate processes, so the cache lives in a file
(one per URL) under the cache directory the caller gives. Writes are atomic (temp file in the
same directory, fsync, ``os.replace``) so readers never see half a file, and a ``fcntl.flock``
on a sibling ``.lock`` file makes concurrent callers wait for one fetch instead of each asking IB.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from traderctl.ibstatus.model import FetchResult
from traderctl.logs import get_logger

log = get_logger(__name__)

CACHE_VERSION = 1


def cache_path(cache_dir: Path, url: str) -> Path:
    """One cache file per URL, named by a hash so any URL makes a safe file name."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(cache_dir) / f"ibstatus-{digest}.json"


def read_cached(path: Path, url: str) -> FetchResult | None:
    """The cached fetch for ``url``, or ``None`` if absent, unreadable or for another URL."""
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("version") != CACHE_VERSION or data.get("url") != url:
            return None
        fetched_at = datetime.fromisoformat(data["fetched_at"])
        if fetched_at.tzinfo is None:
            return None
        return FetchResult(
            url=url,
            ok=bool(data["ok"]),
            fetched_at=fetched_at,
            http_status=data.get("http_status"),
            body=data.get("body"),
            error=data.get("error"),
            from_cache=True,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ib_status_cache_unreadable", path=str(path), error=str(exc))
        return None


def write_cached(path: Path, result: FetchResult) -> None:
    """Atomically replace the cache file with ``result``."""
    data = {"version": CACHE_VERSION, **result.to_json(include_body=True)}
    data.pop("from_cache", None)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_fresh(result: FetchResult, now: datetime, ttl: float, failure_ttl: float) -> bool:
    """Within its time to live; failures live ``failure_ttl`` (capped at ``ttl``).

    An entry dated in the future (clock stepped back) is treated as stale, not fresh forever.
    """
    life = ttl if result.ok else min(failure_ttl, ttl)
    if life <= 0:
        return False
    age = now - result.fetched_at
    return timedelta(0) <= age < timedelta(seconds=life)


@contextlib.contextmanager
def locked(path: Path, wait: float) -> Iterator[bool]:
    """Hold an exclusive flock on ``path`` for the block; yields whether it was obtained.

    Waits at most ``wait`` seconds (polling, so a stuck holder cannot hang us forever); on
    timeout the caller proceeds unlocked and may fetch once more, which is the lesser evil.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        held = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    log.warning("ib_status_cache_lock_timeout", path=str(path), waited=wait)
                    break
                time.sleep(0.02)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
