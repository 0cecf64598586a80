"""Shared plumbing of the commands that talk to a running supervisor."""

from __future__ import annotations

import sys
from typing import Any

import click

from traderctl.cli.app import App

EXIT_UNREACHABLE = 4


def client(app: App, timeout: float | None = 10.0) -> Any:
    from traderctl.daemon.client import ControlClient

    return ControlClient(app.config.get("supervisor.socket"), timeout)


def call(app: App, cmd: str, **args: Any) -> Any:
    """One request; unreachable daemon -> exit 4, refused request -> exit 1."""
    from traderctl.daemon.client import ControlError, DaemonUnreachable

    try:
        return client(app, timeout=float(args.get("timeout", 10)) + 5).call(cmd, **args)
    except DaemonUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(EXIT_UNREACHABLE) from None
    except ControlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(1) from None


def stream(app: App, cmd: str, **args: Any) -> Any:
    from traderctl.daemon.client import ControlError, DaemonUnreachable

    try:
        yield from client(app, timeout=None).stream(cmd, **args)
    except DaemonUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(EXIT_UNREACHABLE) from None
    except ControlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(1) from None
    except KeyboardInterrupt:
        return
