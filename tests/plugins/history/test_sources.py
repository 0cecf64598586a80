"""A third-party bar source through the ``register_bar_sources`` hook: its own job kind,
planned and run by ``history download --source``, written to the same store, tagged."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

from tests.plugins.history.conftest import weekdays_back
from traderctl import hookimpl


def flat_source_plugin() -> Any:
    """A plugin whose source answers every session minute with a flat 42."""
    from traderctl.jobs import JobKind
    from traderctl_history.jobs import prepare, write_bars
    from traderctl_history.sources import BarSource
    from traderctl_history.store import COLUMNS

    async def flat_job(job: Any, ctx: Any) -> dict[str, Any]:
        import pandas as pd

        security, _size, series, span, store = prepare(job)
        index = pd.DatetimeIndex([], tz="UTC", name="time")
        for lo, hi in job.payload["pieces"]:
            index = index.append(pd.date_range(lo, hi, freq="1min", inclusive="left",
                                               name="time"))
        frame = pd.DataFrame({c: 42.0 for c in COLUMNS}, index=index.as_unit("ns"))
        frame["source"] = "flat"
        await write_bars(store, series, security, span, frame, "flat")
        return {"bars": len(frame)}

    module = types.ModuleType("flat_source")

    @hookimpl
    def register_bar_sources(register: Callable[[Any], None]) -> None:
        register(BarSource("flat", "Always 42.", "flat.bars", None, lambda size: 86400))

    @hookimpl
    def register_job_kinds(register: Callable[[Any], None]) -> None:
        register(JobKind("flat.bars", flat_job))

    module.register_bar_sources = register_bar_sources  # type: ignore[attr-defined]
    module.register_job_kinds = register_job_kinds  # type: ignore[attr-defined]
    return module


def test_a_plugins_source_is_planned_run_and_tagged(  # type: ignore[no-untyped-def]
        cli, sim_tws, data_dir) -> None:
    plugin = flat_source_plugin()
    ib = ("--set", f"ib.port={sim_tws.port}", "--set", "ib.host=127.0.0.1",
          "--log-level", "warning")
    listed = cli(*ib, "history", "download", "--help", plugins=(plugin,), entry_points=True)
    assert "--source" in listed.output
    result = cli(*ib, "history", "download", "AAPL", "--source", "flat", "--start",
                 weekdays_back(3).isoformat(), "--end", weekdays_back(1).isoformat(),
                 "--json", plugins=(plugin,), entry_points=True)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["requests"] == 2  # a day a job, as it declared
    assert sim_tws.requests_named("reqHistoricalData") == []
    shown = cli("history", "show", "AAPL", "--json", plugins=(plugin,), entry_points=True)
    bars = json.loads(shown.stdout)
    assert len(bars) == 2 * 16 * 60 and {b["source"] for b in bars} == {"flat"}
    assert {b["close"] for b in bars} == {42.0}
