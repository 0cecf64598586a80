"""Backoff over a service's whole life: it grows while runs are short and starts over after a
run that lasted ``stable_after``."""

from __future__ import annotations

import re
from pathlib import Path

from tests.daemon.conftest import child, wait_until


def restart_delays(d) -> list[float]:
    details = [e["detail"] for e in d.events(service="flappy", to="backoff")]
    return [float(m.group(1)) for m in map(re.compile(r"restart in ([\d.]+)s").search, details)
            if m]


def test_a_stable_run_resets_the_backoff(daemon, tmp_path: Path) -> None:
    # runs 0-2 crash at once (backoff grows 0, 0.2, 0.4), run 3 stays up past stable_after,
    # so its crash restarts at once again and the growth starts over (0, 0.2)
    d = daemon(f"""
        flappy:
          command: {child("flapper", tmp_path / "runs", 0, 0, 0, 1.0, 0)}
          stable_after: 500ms
          backoff: {{initial: 200ms, factor: 2, max: 5s, jitter: 0}}
          start_limit: {{burst: 20, interval: 1m}}
    """)
    wait_until(lambda: len(restart_delays(d)) >= 5, 15, "five restarts")
    assert restart_delays(d)[:5] == [0.0, 0.2, 0.4, 0.0, 0.2]
