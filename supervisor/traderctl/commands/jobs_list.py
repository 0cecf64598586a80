"""``traderctl jobs list``, and opening the job store for every ``jobs`` command.

``jobs list`` is what an operator runs in a loop while a batch works, so it is a
:class:`~traderctl.cli.spec.CommandSpec`: the fast path (:mod:`traderctl.cli.fast`) runs it
without click or the plugin host, reading only ``supervisor.*`` and ``jobs.*`` of the
config. ``--help`` and forms the fast parser does not know go through click to the same
``run``.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from traderctl.cli.spec import CommandSpec, Opt
from traderctl.jobs.model import STATES, JobFilter

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from traderctl.cli.target import Target
    from traderctl.jobs.store import JobStore

PAGE = 1000  # a screenful for people is this; --limit 0 dumps everything
EXIT_BAD_ARGS = 2
EXIT_STORE = 3


@contextmanager
def open_store(target: Target, config: Any = None) -> Iterator[JobStore]:
    """The store ``config`` (default: ``supervisor.*`` and ``jobs.*`` of the target's
    file) names. A config problem exits 2 and a store that cannot be used exits 3, each
    with its message on stderr."""
    from traderctl.config import ConfigError, Override
    from traderctl.jobs.settings import load_store_settings, store_path
    from traderctl.jobs.store import JobStore, StoreError

    if config is None:
        overrides = [o if isinstance(o, Override) else Override(o.key, o.text, o.origin)
                     for o in target.overrides]
        try:
            config = load_store_settings(target.config_path, target.env, overrides)
        except ConfigError as exc:
            exc.report()
            raise SystemExit(EXIT_BAD_ARGS) from None
    try:
        store = JobStore(store_path(config))
        try:
            yield store
        finally:
            store.close()
    except StoreError as exc:
        print(f"error: job store: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_STORE) from None


class NoBatch(ValueError):
    def __init__(self, batch: str) -> None:
        super().__init__(f"no batch {batch!r}")


def make_filter(store: JobStore, batch: str | None, kind: str | None, state: str | None,
                ids: tuple[int, ...] = ()) -> JobFilter:
    """Raises :class:`NoBatch` for a ``--batch`` the store does not know."""
    batch_id = None
    if batch is not None:
        batch_id = store.find_batch(batch)
        if batch_id is None:
            raise NoBatch(batch)
    return JobFilter(batch_id, kind, state, ids)


def run(target: Target, batch: str | None, kind: str | None, state: str | None, limit: int,
        as_json: bool) -> int:
    with open_store(target) as store:
        try:
            flt = make_filter(store, batch, kind, state)
        except NoBatch as exc:
            print(f"error: --batch: {exc}", file=sys.stderr)
            return EXIT_BAD_ARGS
        lines = store.listing(flt, limit or None, as_json)
        shown = len(lines) - (not as_json)
        total = sum(store.counts(flt).values()) if limit and shown >= limit else shown
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    if total > shown:
        print(f"showing {shown} of {total} jobs: filter with --batch/--kind/--state, "
              f"or --limit 0 for all", file=sys.stderr)
    return 0


list_jobs = CommandSpec("list", """List jobs, oldest first (``--json``: one JSON object per line).

With more than ``--limit`` matching jobs, stderr says how many were left out.
""", run, (
    Opt("batch", ("--batch",), help="Batch id or name."),
    Opt("kind", ("--kind",), help="Job kind."),
    Opt("state", ("--state",), help="Job state.", choices=STATES),
    Opt("limit", ("--limit",), int, PAGE, "At most N jobs (0: all of them).", minimum=0),
    Opt("as_json", ("--json",), bool, False, "JSON lines for scripts."),
))
