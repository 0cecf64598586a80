"""What every b2c2 command shares: settings from the config, clients, errors, output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from traderctl.cli.app import App
from traderctl_b2c2.config import ENV_KEY, Settings

if TYPE_CHECKING:
    from traderctl_b2c2.rest import RestClient


def settings(app: App) -> Settings:
    """The effective settings; without a key the command ends with exit code 2."""
    from traderctl.logs import add_secrets

    result = Settings.from_config(app.config, app.env)
    if not result.api_key:
        print(f"config error: b2c2.api_key: not set (set it, or the environment variable "
              f"{ENV_KEY})", file=sys.stderr)
        raise click.exceptions.Exit(2)
    add_secrets([result.api_key])
    return result


def rest_client(config: Settings) -> RestClient:
    from traderctl_b2c2.rest import Limits, RestClient

    assert config.api_key is not None
    return RestClient(config.api_url, config.api_key, timeout=config.timeout,
                      limits=Limits(config.max_quantity, config.max_notional))


@contextmanager
def venue_errors() -> Iterator[None]:
    """A refusal is one line on stderr (code, status, request id) and exit code 1."""
    from traderctl.logs import redact_text
    from traderctl_b2c2.errors import B2C2Error

    try:
        yield
    except B2C2Error as exc:
        print(f"b2c2: {redact_text(str(exc))}", file=sys.stderr)
        raise click.exceptions.Exit(1) from None


def jsonable(value: Any) -> Any:
    """Models as JSON (Decimals as strings, timestamps ISO-8601 UTC)."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def emit_event(app: App) -> Callable[[Any], None]:
    """Feed events to the plugins' ``on_event`` (notifiers), like the supervisor does."""
    def emit(event: Any) -> None:
        app.pm.notify("on_event", event=event)
    return emit
