"""The ``jobs`` config section and what it builds: store, limiter, worker settings."""

from __future__ import annotations

import os
from typing import Any

from traderctl.config.schema import (
    ConfigSection,
    Duration,
    Field,
    FilePath,
    Float,
    Int,
    Section,
    Str,
)


def jobs_section() -> ConfigSection:
    return ConfigSection("jobs", Section({
        "store": Field(FilePath(), None, "Job store (default <supervisor.data_dir>/jobs/)."),
        "concurrency": Field(Int(min=1, max=256), 4, "Jobs a worker runs at once."),
        "lease": Field(Duration(min=1.0), 60.0,
                       "A claimed job returns to pending if its worker stops renewing this."),
        "poll": Field(Duration(min=0.01), 0.5, "How often an idle worker looks for work."),
        "grace": Field(Duration(), 30.0,
                       "On SIGINT/SIGTERM, in-flight jobs get this long, then go back "
                       "to pending."),
        "job_timeout": Field(Duration(min=0.01), 120.0,
                             "One attempt longer than this is a timeout (retryable)."),
        "retry": Section({
            "base": Field(Duration(), 2.0, "Backoff of the first retry (full jitter)."),
            "cap": Field(Duration(), 300.0, "Longest backoff."),
            "max_attempts": Field(Int(min=1), 8, "Then the job is failed."),
        }, doc="Exponential backoff with full jitter."),
        "soft_rate": Section({
            "count": Field(Int(min=1), 60),
            "per": Field(Duration(min=0.001), 60.0),
        }, doc="Soft pacing of historical requests for bars over 30 s (ib_historical)."),
        "time_scale": Field(Float(min=1e-6), 1.0,
                            "Multiplies every rate-limit window (the simulator's time_scale)."),
        "pacing_margin": Field(Float(min=0.0), 0.01,
                               "Windows are this fraction longer than IB's (network jitter)."),
        "tws_service": Field(Str(), "tws", "Supervised service whose state pauses workers."),
        "client_id": Field(Int(min=0), 90, "Client id of the worker's IB connection."),
        "probe_client_id": Field(Int(min=0), 91,
                                 "Client id of the probe that checks TWS after an outage."),
        "probe_timeout": Field(Duration(min=0.1), 5.0,
                               "The probe's time to answer before TWS counts as down."),
        "progress_interval": Field(Duration(min=0.1), 10.0,
                                   "How often batch_progress events are printed."),
    }, doc="The batch-job engine: queue, shared IB rate limits, retries."))


def store_dir(config: Any) -> str:
    return str(config.get("jobs.store") or os.path.join(config.get("supervisor.data_dir"),
                                                        "jobs"))


def store_path(config: Any) -> str:
    return os.path.join(store_dir(config), "jobs.sqlite")


def limiter_path(config: Any) -> str:
    return os.path.join(store_dir(config), "limiter.sqlite")
