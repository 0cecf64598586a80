"""The plugin contract: every hook traderctl calls, who calls it, when, and what it expects.

Implement hooks with the marker from the package::

    from traderctl import hookimpl

    @hookimpl
    def register_commands(cli):
        cli.add_command(my_command)

Rules that hold for every hook:

* Plugins are registered built-ins first, then the entry points of group
  ``traderctl``, one at a time (:mod:`traderctl.plugins`).
* Registration hooks (``register_*``) are called once per process, one plugin
  at a time. If a plugin's implementation raises, the error is logged
  (``plugin_load_failed``), shown by ``traderctl plugins`` and that plugin is
  unregistered; the others keep working. With ``TRADERCTL_STRICT_PLUGINS=1``
  it is fatal instead.
* Module import of a plugin must stay light: import ``ib_async``, pandas,
  requests, bs4 and the like inside the functions that use them, so that
  ``traderctl --help`` and the daemon-talking commands stay fast.
* A hook implementation whose name matches no spec below is a load failure of
  its plugin (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from traderctl import hookspec

if TYPE_CHECKING:
    import click

    from traderctl.checks import Check
    from traderctl.config.schema import ConfigSection
    from traderctl.events import Event
    from traderctl.services.probes import ProbeType
    from traderctl.services.types import ServiceType


@hookspec(historic=True)
def add_hookspecs(pm: Any) -> None:
    """Add the hooks a plugin defines for others: ``pm.add_hookspecs(my_spec_module)``.

    Historic (pytest's ``pytest_addhooks`` pattern): called once for each plugin as it
    is registered, before its other hooks are validated, so plugins registered later
    can implement the new hooks. The job engine adds ``register_job_kinds`` this way
    (:mod:`traderctl.jobs.spec`). Returns nothing.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``traderctl`` command line.

    Called by the CLI once at start-up, before arguments are parsed, so the
    commands appear in ``--help``. Use ``cli.add_command(...)``, or
    ``cli.add_lazy(name, "module:attribute", short_help)`` to import the command
    only when it is run (what the built-ins do to keep start-up fast). A command that
    needs configuration gets it from ``click.get_current_context().obj``
    (:class:`traderctl.cli.app.App`) through ``app.config``. Returns nothing.
    """


@hookspec
def register_config(register: Callable[[ConfigSection], None]) -> None:
    """Declare the top-level config sections this plugin owns.

    Called whenever a configuration is loaded (CLI, daemon, reload), before
    validation. Call ``register(ConfigSection(name, Section({...})))`` for each
    section: keys, types, defaults and which keys are ``secret=True`` (masked in
    ``config show``, redacted from logs). Two plugins claiming the same section
    name is a load failure of the second. Returns nothing.
    """


@hookspec
def register_checks(register: Callable[[Check], None]) -> None:
    """Declare health checks for ``traderctl check`` and scheduled check jobs.

    Called once per check run. Call ``register(Check(name, run, doc, timeout))``;
    ``run(ctx)`` may be sync (run in a worker thread) or async and returns a
    :class:`traderctl.checks.CheckResult`. A check that raises or times out is
    reported ``unknown``; it never passes by accident. Returns nothing.
    """


@hookspec
def register_service_types(register: Callable[[ServiceType], None]) -> None:
    """Declare service types usable as ``services.<name>.type``.

    Called when the configuration is loaded (the type's extra keys are part of
    validation) and when the supervisor starts. ``process`` is the built-in
    type; the ``tws`` type is registered the same way. Returns nothing.
    """


@hookspec
def register_probes(register: Callable[[ProbeType], None]) -> None:
    """Declare readiness/liveness probe kinds usable as ``readiness: {<name>: ...}``.

    Called like ``register_service_types``. Built-in kinds are ``after``,
    ``tcp`` and ``command``. Returns nothing.
    """


@hookspec
def on_event(event: Event) -> None:
    """Observe every event: service state changes, audit records, check results.

    Called by the supervisor (and by ``traderctl check``) in the event loop's
    thread, synchronously, once per event and per plugin. Keep it quick: hand
    slow work (HTTP, files) to a thread or a queue. An exception is logged
    (``plugin_hook_failed``) and does not reach the caller or the other
    plugins. Returns nothing.
    """


@hookspec
def on_config(config: Any) -> None:
    """The supervisor loaded (or reloaded) its configuration.

    Called by the daemon before services start and after every successful
    reload, with the effective :class:`traderctl.config.Config`. Plugins that
    act on events (notifiers) read their settings here. Failures are logged
    like ``on_event``'s. Returns nothing.
    """


@hookspec
def on_shutdown() -> None:
    """The supervisor stopped every service and is about to exit.

    Flush what you buffered (pending notifications). Failures are logged like
    ``on_event``'s. Returns nothing.
    """


@hookspec
def ib_status_exchanges(config: Any) -> list[str]:
    """Exchanges the user trades, to add to ``checks.ib_status.exchanges``.

    Called by the IB status check with the effective config. Return IB
    exchange codes or MICs (``NYSE``, ``XNAS``); every plugin's lists are
    merged. A plugin that knows the user's securities (symbols) returns their
    primary exchanges.
    """
