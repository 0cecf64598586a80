"""``python -m traderctl.simulator``: the simulator without the traderctl CLI.

Same options as ``traderctl sim-tws``; stdlib-only so it runs under a bare
python3 with ``PYTHONPATH=supervisor``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .runner import serve_forever


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m traderctl.simulator", description="Simulated TWS / IB Gateway"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7497)
    p.add_argument(
        "--universe", default=None, help="contract universe JSON (default: packaged)"
    )
    p.add_argument("--scenario", default=None, help="scenario file (JSON or YAML)")
    p.add_argument(
        "--time-scale", type=float, default=None, help="shrink IB limit windows (0.01 = 100x)"
    )
    p.add_argument("--server-version", type=int, default=None, help="176..178 (default 178)")
    p.add_argument("--timezone", default=None, help="TWS login zone (default US/Eastern)")
    p.add_argument("--no-limits", action="store_true", help="disable pacing/rate/duration limits")
    p.add_argument(
        "--control-port", type=int, default=None, help="line control channel on 127.0.0.1 (0 = any)"
    )
    p.add_argument(
        "--log-level",
        default=None,
        choices=("debug", "info", "warning", "error"),
        help="drop events below this level (default: print every event; benchmarks: warning)",
    )
    return p


def configure_logging(level_name: str | None) -> None:
    """stdlib logging, and structlog (when installed) filtering at the same level."""
    level = getattr(logging, (level_name or "info").upper())
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    if level_name is None:
        return  # structlog's own default: every event
    try:
        import structlog
    except ImportError:  # a bare python3: _log falls back to stdlib logging
        return
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    return asyncio.run(
        serve_forever(
            host=args.host,
            port=args.port,
            universe_path=args.universe,
            scenario_path=args.scenario,
            time_scale=args.time_scale,
            server_version=args.server_version,
            timezone=args.timezone,
            limits=False if args.no_limits else None,
            control_port=args.control_port,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
