"""Shared plumbing of the commands that talk to a running supervisor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from traderctl.cli.app import App

EXIT_UNREACHABLE = 4


def client(app: App, timeout: float | None = 10.0) -> Any:
    from traderctl.daemon.client import ControlClient

    return ControlClient(app.control_socket(), timeout)


@contextmanager
def _exit_codes() -> Iterator[None]:
    """Unreachable daemon -> exit 4, refused request -> exit 1, each with its message."""
    from traderctl.daemon.client import ControlError, DaemonUnreachable

    try:
        yield
    except DaemonUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(EXIT_UNREACHABLE) from None
    except ControlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise click.exceptions.Exit(1) from None


def call(app: App, cmd: str, **args: Any) -> Any:
    """One request and its result."""
    with _exit_codes():
        return client(app, timeout=float(args.get("timeout", 10)) + 5).call(cmd, **args)


def stream(app: App, cmd: str, **args: Any) -> Iterator[dict[str, Any]]:
    """Items of a streaming request until the daemon ends it or Ctrl-C."""
    with _exit_codes():
        try:
            yield from client(app, timeout=None).stream(cmd, **args)
        except KeyboardInterrupt:
            return
