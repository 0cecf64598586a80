"""on_config and on_shutdown, implemented by an installed plugin, called by a real supervisor."""

from __future__ import annotations

from pathlib import Path

LIFECYCLE_PLUGIN = """
import json, os
from traderctl import hookimpl

OUT = os.environ["LIFECYCLE_OUT"]

def _write(line):
    with open(OUT, "a") as fh:
        fh.write(line + "\\n")

@hookimpl
def on_config(config):
    _write("config " + json.dumps(sorted(config.section("services"))))

@hookimpl
def on_shutdown():
    _write("shutdown")
"""


def test_on_config_and_on_shutdown_in_a_real_supervisor(daemon, tmp_path: Path) -> None:
    import os

    from tests.conftest import REPO, fake_distribution
    from tests.daemon.conftest import child

    site = fake_distribution(tmp_path / "site", "lifecycle", LIFECYCLE_PLUGIN)
    out = tmp_path / "lifecycle.txt"
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO / "supervisor")]),
           "LIFECYCLE_OUT": str(out)}
    d = daemon(f"a:\n  command: {child('sleeper')}\n", env=env)
    d.stop()
    assert out.read_text().splitlines() == ['config ["a"]', "shutdown"]
