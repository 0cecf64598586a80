"""The SQLite job store: idempotent submit, leases, recovery, operator actions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jobs.conftest import Clock
from traderctl.jobs.model import Job, JobFilter
from traderctl.jobs.store import JobStore, StoreError


def get(store: JobStore, job_id: int) -> Job:
    found = store.get(job_id)
    assert found is not None
    return found


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite", clock=Clock())


def test_the_store_is_wal(store: JobStore) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_store_and_its_journals_are_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    folder.mkdir(mode=0o755)  # left open by an older version or by hand
    old = os.umask(0o022)
    try:
        store = JobStore(folder / "jobs.sqlite", clock=Clock())
        store.submit("k", [("a", {})], store.create_batch("b"))
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    assert {"jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm"} <= set(modes)
    assert set(modes.values()) == {0o600} and folder.stat().st_mode & 0o777 == 0o700


def test_submitting_a_key_again_changes_nothing_unless_refreshed(store: JobStore) -> None:
    batch = store.create_batch("b")
    assert store.submit("k", [("a", {"v": 1}), ("b", {"v": 1})], batch).new == 2
    (job,) = store.claim("w", ["k"], 1, 60)
    store.complete(job.id, "w", {"r": 1})
    again = store.submit("k", [("a", {"v": 2}), ("b", {"v": 2})], batch)
    assert (again.new, again.refreshed, again.unchanged) == (0, 0, 2)
    assert get(store, job.id).payload == {"v": 1} and get(store, job.id).state == "done"
    refreshed = store.submit("k", [("a", {"v": 3})], batch, refresh=True)
    assert refreshed.refreshed == 1
    job = get(store, job.id)
    assert (job.state, job.payload, job.attempts, job.result) == ("pending", {"v": 3}, 0, None)


def test_refresh_leaves_a_running_job_alone(store: JobStore) -> None:
    store.submit("k", [("a", 1)])
    (job,) = store.claim("w", ["k"], 1, 60)
    assert store.submit("k", [("a", 2)], refresh=True).unchanged == 1
    assert store.complete(job.id, "w", "ok")


def test_a_claimed_job_is_leased_to_one_owner(store: JobStore) -> None:
    store.submit("k", [(str(i), i) for i in range(5)])
    first = store.claim("w1", ["k"], 3, 60)
    second = store.claim("w2", ["k"], 10, 60)
    assert {j.id for j in first}.isdisjoint(j.id for j in second)
    assert len(first) + len(second) == 5
    assert not store.complete(first[0].id, "w2", "stolen")  # not w2's lease
    assert store.complete(first[0].id, "w1", "mine")
    assert get(store, first[0].id).result == "mine"


def test_an_expired_lease_returns_the_job_to_pending(store: JobStore) -> None:
    store.submit("k", [("a", 1)])
    (job,) = store.claim("host:1:1", ["k"], 1, 10)
    assert store.recover() == 0
    store.clock.now += 11  # type: ignore[attr-defined]
    assert store.recover() == 1
    (again,) = store.claim("w2", ["k"], 1, 10)
    assert again.id == job.id and again.attempts == 2
    assert not store.complete(job.id, "host:1:1", "late")  # the first owner lost it


def test_a_dead_local_owner_is_recovered_at_once(store: JobStore, tmp_path: Path) -> None:
    import socket

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    store.submit("k", [("a", 1)])
    store.claim(f"{socket.gethostname()}:{child.pid}:0", ["k"], 1, 3600)
    store.claim(f"{socket.gethostname()}:{os.getpid()}:x", ["k"], 1, 3600)  # nothing left
    assert store.recover() == 1
    assert get(store, 1).state == "pending"


def test_retry_backoff_and_refund(store: JobStore) -> None:
    store.submit("k", [("a", 1)])
    (job,) = store.claim("w", ["k"], 1, 60)
    assert store.fail(job.id, "w", "IB error 162: pacing", store.clock() + 5)
    assert store.claim("w", ["k"], 1, 60) == []  # not before its backoff
    store.clock.now += 5  # type: ignore[attr-defined]
    (job,) = store.claim("w", ["k"], 1, 60)
    assert job.attempts == 2 and job.last_error == "IB error 162: pacing"
    store.fail(job.id, "w", "TWS down", store.clock(), refund=True)
    assert get(store, job.id).attempts == 1
    (job,) = store.claim("w", ["k"], 1, 60)
    store.fail(job.id, "w", "IB error 200: no security", None)
    job = get(store, job.id)
    assert (job.state, job.finished_at is not None) == ("failed", True)


def test_cancel_retry_purge_with_filters(store: JobStore) -> None:
    b1, b2 = store.create_batch("one"), store.create_batch("two")
    store.submit("k", [("a", 1), ("b", 1)], b1)
    store.submit("other", [("c", 1)], b2)
    (running,) = store.claim("w", ["k"], 1, 60)
    assert store.cancel(JobFilter(batch_id=b1)) == 2
    assert not store.complete(running.id, "w", "too late")  # its result is dropped
    assert store.renew("w", [running.id], 60) == set()      # the worker learns of it
    assert store.counts()["cancelled"] == 2
    assert store.retry(JobFilter(kind="k")) == 2
    assert store.counts(JobFilter(batch_id=b1))["pending"] == 2
    assert store.purge(JobFilter()) == 0  # nothing finished
    for job in store.claim("w", ["k", "other"], 10, 60):
        store.complete(job.id, "w", None)
    assert store.purge(JobFilter(batch_id=b2)) == 1
    assert [b.name for b in store.batches()] == ["one"]
    assert store.find_batch("one") == b1 and store.find_batch(str(b1)) == b1


def test_an_unusable_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.sqlite").write_text("this is not a database" * 100)
    with pytest.raises(StoreError, match=r"bad\.sqlite"):
        JobStore(tmp_path / "bad.sqlite")
