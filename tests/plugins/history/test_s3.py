"""The scale-out path for real: ``history.storage`` an ``s3://`` URI on a local S3 endpoint
(moto's server, a separate process started by the test), a download into it through the
simulator, read back through the CLI and by a second opening of the same bucket.

moto runs as its own process (``python -m moto.server``), not as moto's in-process
``ThreadedMotoServer``: ArcticDB's native S3 client blocks waiting on a server that needs
this process's GIL, and hangs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.plugins.history.conftest import weekdays_back, write_config

pytestmark = pytest.mark.timeout(120)
ACCESS, SECRET, BUCKET = "history-test-key", "history-test-secret-value", "bars"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_endpoint(tmp_path: Path) -> Iterator[int]:
    """A moto S3 server on a free port with the bucket created; its port."""
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start: "
                                       + (tmp_path / "moto.log").read_text()) from None
                time.sleep(0.1)
        import boto3

        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}",
                              aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                              region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.close()
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def s3_uri(port: int) -> str:
    return (f"s3://127.0.0.1:{BUCKET}?port={port}&access={ACCESS}&secret={SECRET}"
            f"&region=us-east-1")


def test_download_into_s3_and_read_it_back(  # type: ignore[no-untyped-def]
        history_cli: Callable[..., Result], sim_tws, s3_endpoint: int,
        tmp_path: Path) -> None:
    uri = s3_uri(s3_endpoint)
    data = write_config(tmp_path, f'history:\n  storage: "{uri}"\n')
    args = ("download", "AAPL", "--bar-size", "5 secs", "--rth", "--start",
            weekdays_back(2).isoformat(), "--end", weekdays_back(1).isoformat(), "--json")
    first = history_cli(sim_tws, *args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)[0]["requests"] == 7  # one RTH day of 5-second bars
    again = history_cli(None, *args)  # complete in S3: no request, TWS not needed
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["requests"] == 0

    shown = history_cli(None, "show", "AAPL", "--bar-size", "5 secs", "--tz", "utc", "--json")
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert len(rows) == 390 * 12 and {r["source"] for r in rows} == {"ib"}
    status = json.loads(history_cli(None, "status", "--json").stdout)
    assert [(r["symbol"], r["bars"], r["gaps"]) for r in status] == [("AAPL", 390 * 12, 0)]

    from traderctl_history.store import HistoryStore, Series

    other = HistoryStore(uri, tmp_path / "other-locks")  # another box on the same bucket
    frame = other.read(Series(265598, "5 secs", "TRADES", True))
    assert len(frame) == 390 * 12 and frame.index.is_unique
    assert str(frame.index.tz) == "UTC"
    assert other.metadata(Series(265598, "5 secs", "TRADES", True))["security"]["symbol"] \
        == "AAPL"
    # the credentials never reach the job store (the payloads name no S3 store)
    jobs = b"".join(p.read_bytes() for p in (data / "jobs").glob("jobs.sqlite*"))
    assert SECRET.encode() not in jobs and ACCESS.encode() not in jobs


def test_config_show_masks_the_s3_credentials(  # type: ignore[no-untyped-def]
        history_cli: Callable[..., Result], cli: Callable[..., Any], s3_endpoint: int,
        tmp_path: Path) -> None:
    write_config(tmp_path, f'history:\n  storage: "{s3_uri(s3_endpoint)}"\n')
    shown = cli("config", "show", entry_points=True)
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.output and ACCESS not in shown.output
