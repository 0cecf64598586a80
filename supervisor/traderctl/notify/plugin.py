"""Built-in plugin: the ``notify`` section and the notifier fed by ``on_event``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

    from traderctl.config.loader import Config
    from traderctl.config.schema import ConfigSection
    from traderctl.events import Event
    from traderctl.notify.notifier import Notifier

_notifier: Notifier | None = None


@hookimpl
def register_config(register: Callable[[ConfigSection], None]) -> None:
    from traderctl.config.schema import (
        ConfigSection,
        Duration,
        Field,
        Int,
        ListOf,
        Section,
        Str,
    )
    from traderctl.services.spec import Command

    target = Section({
        "name": Field(Str(), "default", "Shown in logs."),
        "url": Field(Str(pattern=r"https?://\S+", hint="an http(s) URL"), None,
                     "Webhook: the event is POSTed as JSON.", secret=True),
        "command": Field(Command(), None, "Command run with the event as JSON on stdin."),
        "events": Field(ListOf(Str()), ["service_state", "tws_second_factor_pending",
                                        "check_result"], "Event names to send (empty: all)."),
        "states": Field(ListOf(Str()), ["failed", "unhealthy"],
                        "For service_state: only transitions to these states (empty: all)."),
        "dedupe": Field(Duration(), 300.0, "Identical notifications within this are dropped."),
        "rate_limit": Section({"count": Field(Int(min=1), 20), "per": Field(Duration(), 3600.0)}),
        "timeout": Field(Duration(min=0.1), 10.0),
    })
    register(ConfigSection("notify", Section({
        "targets": Field(ListOf(target), [], "Where notifications go."),
    }, doc="Notifications of chosen events")))


@hookimpl
def on_config(config: Config) -> None:
    global _notifier
    targets = config.get("notify.targets") or []
    if not targets and _notifier is None:
        return
    if _notifier is None:
        from traderctl.notify.notifier import Notifier

        _notifier = Notifier()
    _notifier.configure(targets)


@hookimpl
def on_event(event: Event) -> None:
    if _notifier is not None:
        _notifier.on_event(event)


@hookimpl
def on_shutdown() -> None:
    if _notifier is not None:
        _notifier.close()
