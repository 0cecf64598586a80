"""Entry-point discovery with a cache keyed on what is installed.

``importlib.metadata`` reads every installed distribution's metadata: ~50 ms
on a small venv, on every ``traderctl`` invocation. Like stevedore, we cache
the result per interpreter, keyed on the modification times of the
``sys.path`` directories and of each ``*.dist-info`` in them (installing,
upgrading or removing a distribution changes one of those), and fall back to
a fresh scan when anything differs or the cache cannot be read or written.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any, TypedDict


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> Any:
        module_name, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


class CacheEntry(TypedDict):
    """One remembered scan: the install key it was made under and what it found."""

    key: list[Any]
    entry_points: list[dict[str, str]]


class CacheFile(TypedDict):
    entries: list[CacheEntry]


KEEP = 8  # recent sys.path layouts remembered per interpreter (CLI, tests, daemon ...)


def discover(group: str) -> list[EntryPoint]:
    key = _install_key()
    path = _cache_path(group)
    cached = _read(path)
    entries = cached["entries"] if cached else []
    for entry in entries:
        if entry.get("key") == key:
            return [EntryPoint(**ep) for ep in entry["entry_points"]]
    found = _scan(group)
    entries = [*entries[-(KEEP - 1):],
               CacheEntry(key=key, entry_points=[asdict(ep) for ep in found])]
    _write(path, CacheFile(entries=entries))
    return found


def _scan(group: str) -> list[EntryPoint]:
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=group):
        dist = ep.dist
        out.append(EntryPoint(ep.name, ep.value, dist.name if dist else "",
                              dist.version if dist else ""))
    return out


def _install_key() -> list[Any]:
    key: list[Any] = []
    for entry in sys.path:
        try:
            key.append([entry, os.stat(entry or ".").st_mtime_ns])
            with os.scandir(entry or ".") as it:
                key.extend([d.name, d.stat().st_mtime_ns] for d in it
                           if d.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return key


def _cache_path(group: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    import zlib

    tag = zlib.crc32(f"{sys.executable}\0{group}".encode())
    return os.path.join(base, "traderctl", f"entry-points-{tag:08x}.json")


def _read(path: str) -> CacheFile | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("entries"), list)
    return data if ok else None  # another version's or a damaged file: scan again


def _write(path: str, data: CacheFile) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed
