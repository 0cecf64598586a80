"""``traderctl jobs``: inspect and steer the job store, and run the worker.

Exit codes (every subcommand):

* 0: done (for ``worker --until-done``: every job of the batch finished ``done``)
* 1: nothing matched (``show`` of an unknown id, ``retry``/``cancel``/``purge`` that
  selected no job), or ``worker --until-done`` ended with failed jobs
* 2: invalid arguments or configuration
* 3: the job store cannot be opened or written (permissions, a full disk, corruption)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from traderctl.cli.app import App, pass_app
from traderctl.cli.spec import to_click
from traderctl.commands import jobs_list
from traderctl.jobs.model import STATES, JobFilter, iso
from traderctl.jobs.store import JobStore, StoreError
from traderctl.output import print_json, print_table

EXIT_NO_MATCH = 1
EXIT_STORE = jobs_list.EXIT_STORE


@click.group("jobs")
def jobs_group() -> None:
    """The batch-job queue: list, show, retry, cancel, purge, submit; run the worker.

    Exit codes: 0 ok, 1 nothing matched (or failed jobs after worker --until-done),
    2 bad arguments or config, 3 the job store cannot be used.
    """


@contextmanager
def open_store(app: App) -> Iterator[JobStore]:
    """The store of the config as loaded so far (see :func:`jobs_list.open_store`)."""
    with jobs_list.open_store(app.target(), app.__dict__.get("config")) as store:
        yield store


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--batch", help="Batch id or name.")(func)
    func = click.option("--kind", help="Job kind.")(func)
    func = click.option("--state", type=click.Choice(STATES), help="Job state.")(func)
    return func


def make_filter(store: JobStore, batch: str | None, kind: str | None, state: str | None,
                ids: tuple[int, ...] = ()) -> JobFilter:
    try:
        return jobs_list.make_filter(store, batch, kind, state, ids)
    except jobs_list.NoBatch as exc:
        raise click.BadParameter(str(exc), param_hint="--batch") from None


jobs_group.add_command(to_click(jobs_list.list_jobs))


@jobs_group.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def show(app: App, job_id: int, as_json: bool) -> None:
    """Everything about one job: payload, result, attempts, last error, lease."""
    with open_store(app) as store:
        job = store.get(job_id)
    if job is None:
        print(f"error: no job {job_id}", file=sys.stderr)
        raise click.exceptions.Exit(EXIT_NO_MATCH)
    data = job.to_json()
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        text = json.dumps(value, default=str) if isinstance(value, dict | list) else value
        print(f"{key:12} {'' if text is None else text}")


def _select(app: App, action: str, ids: tuple[int, ...], batch: str | None, kind: str | None,
            state: str | None, everything: bool) -> None:
    if not (ids or batch or kind or state or everything):
        raise click.UsageError(f"say which jobs to {action}: ids, --batch, --kind, --state "
                               f"or --all")
    with open_store(app) as store:
        count = getattr(store, action)(make_filter(store, batch, kind, state, ids))
    print(f"{action}: {count} job{'s' * (count != 1)}")
    if not count:
        raise click.exceptions.Exit(EXIT_NO_MATCH)


def selection_command(action: str, doc: str) -> click.Command:
    @click.argument("ids", nargs=-1, type=int)
    @filter_options
    @click.option("--all", "everything", is_flag=True, help="Every job the action applies to.")
    @pass_app
    def command(app: App, ids: tuple[int, ...], batch: str | None, kind: str | None,
                state: str | None, everything: bool) -> None:
        _select(app, action, ids, batch, kind, state, everything)

    command.__doc__ = doc
    return jobs_group.command(action)(command)


selection_command("retry", "Put failed and cancelled jobs back to pending, attempts reset.")
selection_command("cancel", "Cancel pending and running jobs (a running one stops at once).")
selection_command("purge", "Delete finished jobs (done, failed, cancelled).")


@jobs_group.command("batches")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def batches(app: App, as_json: bool) -> None:
    """Batches with their job counts by state."""
    with open_store(app) as store:
        found = [(b, store.counts(JobFilter(batch_id=b.id))) for b in store.batches()]
    rows = [{"id": b.id, "name": b.name, "created_at": iso(b.created_at), **c}
            for b, c in found]
    if as_json:
        print_json(rows)
    else:
        print_table(["id", "name", "created", *STATES],
                    [[r["id"], r["name"], r["created_at"], *(r[s] for s in STATES)]
                     for r in rows])


@jobs_group.command("submit")
@click.argument("kind")
@click.argument("source", type=click.File("r"), default="-")
@click.option("--batch", "batch_name", help="Name of a new batch for these jobs.")
@click.option("--refresh", is_flag=True, help="Reset jobs whose key already exists.")
@pass_app
def submit(app: App, kind: str, source: Any, batch_name: str | None, refresh: bool) -> None:
    """Submit jobs from JSON lines ``{"key": ..., "payload": ...}`` (a file or stdin)."""
    items = []
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            items.append((str(item["key"]), item.get("payload")))
        except (ValueError, KeyError, TypeError):
            raise click.BadParameter(f"line {number}: expected {{\"key\": ..., \"payload\": "
                                     f"...}}", param_hint="SOURCE") from None
    with open_store(app) as store:
        batch_id = store.create_batch(batch_name) if batch_name else None
        result = store.submit(kind, items, batch_id=batch_id, refresh=refresh)
    print_json({"batch": batch_id, "new": result.new, "refreshed": result.refreshed,
                "unchanged": result.unchanged})


@jobs_group.command("kinds")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@pass_app
def kinds(app: App, as_json: bool) -> None:
    """Job kinds the plugins registered, with their rate-limit rules."""
    from traderctl.jobs.kinds import collect_kinds
    from traderctl.jobs.profiles import builtin_profiles

    profiles = builtin_profiles(app.config.section("jobs"))
    rows: list[dict[str, Any]] = []
    for kind in collect_kinds(app.pm).values():
        profile = profiles.get(kind.profile) if isinstance(kind.profile, str) else kind.profile
        rules = profile.describe() if profile is not None else ["unknown profile"]
        rows.append({"name": kind.name, "profile": getattr(profile, "name", kind.profile),
                     "rules": rules, "doc": kind.doc})
    if as_json:
        print_json(rows)
    else:
        print_table(["kind", "profile", "rules"],
                    [[r["name"], r["profile"], "; ".join(r["rules"])] for r in rows])


@jobs_group.command("worker")
@click.option("--batch", help="Only this batch (id or name).")
@click.option("--until-done", is_flag=True, help="Exit when no job is left to run.")
@click.option("--concurrency", type=click.IntRange(min=1), help="Override jobs.concurrency.")
@pass_app
def worker(app: App, batch: str | None, until_done: bool, concurrency: int | None) -> None:
    """Run jobs of every registered kind (a supervised service: depends_on [tws])."""
    from traderctl.jobs.kinds import collect_kinds
    from traderctl.jobs.runtime import run_from_config

    config = app.config
    found = collect_kinds(app.pm)
    if not found:
        print("warning: no job kinds are registered; the worker will idle", file=sys.stderr)
    batch_id = None
    if batch is not None:
        with open_store(app) as store:
            batch_id = make_filter(store, batch, None, None).batch_id
    try:
        done = run_from_config(config, found, batch_id, until_done, concurrency)
    except StoreError as exc:
        print(f"error: job store: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(EXIT_STORE) from None
    if until_done and done.tally.failed:
        raise click.exceptions.Exit(EXIT_NO_MATCH)
