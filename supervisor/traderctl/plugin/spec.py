"""The plugin contract: every hook traderctl calls, grouped by when in a process's life.

Implement hooks with the marker from the package::

    from traderctl import hookimpl

    @hookimpl
    def register_commands(cli):
        cli.add_lazy("hello", "traderctl_hello.plugin:hello", "Greet someone.")

Each hook says who calls it, when, how often, and its result rule. Rules for every hook:

* Plugins are registered built-ins first, then the entry points of group ``traderctl``, one
  at a time (:mod:`traderctl.plugin.manager`).
* Hooks are called in pluggy's order (``@hookimpl(tryfirst=True)`` first, ``trylast=True``
  last, otherwise the last registered plugin first), and an implementation gets only the
  arguments it names: ``def on_event(): ...`` is a valid implementation of ``on_event``.
* Unlike a plain pluggy call, one plugin's exception does not stop the others: in a
  registration hook it is a load failure of that plugin (logged ``plugin_load_failed``, shown
  by ``traderctl plugins``, the plugin is unregistered; fatal with
  ``TRADERCTL_STRICT_PLUGINS=1`` or for a built-in); in any other hook it is logged
  (``plugin_hook_failed``) and the plugin stays. Because each implementation is called on its
  own, hook wrappers (``wrapper=True``, ``hookwrapper=True``) are refused at registration.
* An implementation whose name matches no spec is a load failure of its plugin (a typo would
  otherwise be silently ignored); mark it ``@hookimpl(optionalhook=True)`` when it serves a
  hook another plugin may or may not bring.
* Module import of a plugin must stay light: import ``ib_async``, pandas, requests, bs4 and
  the like inside the functions that use them, so that ``traderctl --help`` and the
  daemon-talking commands stay fast.

A plugin that offers hooks of its own (the ``symbols`` plugin's ``resolve_securities``, the
jobs engine's ``register_job_kinds``) declares them with ``@hookspec`` in a module or class
of its own and adds them from :func:`add_hookspecs`; see :mod:`traderctl.builtin.ibstatus`,
which adds ``ib_status_exchanges`` that way, and call them with ``pm.call_each(name, ...)``
(isolating failures) or ``pm.hook.<name>(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from traderctl import hookspec

if TYPE_CHECKING:
    import click

    from traderctl.config.loader import Config
    from traderctl.config.schema import ConfigSection
    from traderctl.events import Event
    from traderctl.plugin.checktypes import Check
    from traderctl.plugin.manager import PluginManager
    from traderctl.services.probes import ProbeType
    from traderctl.services.types import ServiceType


class CommandGroup(Protocol):
    """What ``register_commands`` gets: the ``traderctl`` group, a
    :class:`traderctl.cli.main.LazyGroup` (a ``click.Group``); these are the calls a plugin
    makes on it."""

    def add_lazy(self, name: str, target: str, short_help: str = "") -> None: ...

    def add_command(self, cmd: click.Command, name: str | None = None) -> None: ...


# ---- start-up and registration ------------------------------------------------------------


@hookspec(historic=True)
def add_hookspecs(pm: PluginManager) -> None:
    """Add the specs of hooks this plugin offers to others: ``pm.add_hookspecs(my_specs)``.

    Called by the plugin manager once per plugin, as the plugin is registered and before its
    other implementations are validated (a historic hook: plugins registered later get it
    too). Returns nothing; an exception is a load failure of the plugin.
    """


@hookspec
def register_commands(cli: CommandGroup) -> None:
    """Add commands or groups to the ``traderctl`` command line.

    Called by the CLI (:func:`traderctl.cli.main.build_cli`) once per process, before
    arguments are parsed, so the commands appear in ``--help``. Prefer
    ``cli.add_lazy(name, "module:attribute", short_help)``, which imports the command only
    when it runs (what the built-ins do to keep start-up fast); ``cli.add_command(...)``
    works too. A command that needs configuration gets it through
    ``click.get_current_context().obj`` (:class:`traderctl.cli.app.App`) as ``app.config``.
    Returns nothing.
    """


@hookspec
def register_service_types(register: Callable[[ServiceType], None]) -> None:
    """Declare service types usable as ``services.<name>.type``.

    Called once per plugin manager, the first time the types are needed (the first config
    load: the type's extra keys are part of validation); the daemon and every reload reuse
    that collection (:meth:`PluginManager.registered`). Call ``register(ServiceType(...))``;
    ``process`` is the built-in type and ``tws`` is registered the same way. The first
    registration of a name wins. Returns nothing.
    """


@hookspec
def register_probes(register: Callable[[ProbeType], None]) -> None:
    """Declare readiness/liveness probe kinds usable as ``readiness: {<name>: ...}``.

    Called like :func:`register_service_types` (once per plugin manager, cached). Built-in
    kinds are ``after``, ``tcp`` and ``command``; the first registration of a name wins.
    Returns nothing.
    """


# ---- configuration ------------------------------------------------------------------------


@hookspec
def register_config(register: Callable[[ConfigSection], None]) -> None:
    """Declare the top-level config sections this plugin owns.

    Called once per plugin manager, at the first config load (CLI, daemon), before
    validation; reloads reuse the collection. Call
    ``register(ConfigSection(name, Section({...})))`` for each section: keys, types, defaults
    and which keys are ``secret=True`` (masked in ``config show``, redacted from logs). A name
    the core or an earlier plugin owns is a load failure of this plugin. Returns nothing.
    """


@hookspec
def on_config(config: Config) -> None:
    """The supervisor loaded (or reloaded) its configuration.

    Called by the daemon in the event loop's thread before services start and after every
    successful reload, with the effective config. Plugins that act on events (notifiers) read
    their settings here. Failures are logged (``plugin_hook_failed``). Returns nothing.
    """


# ---- supervision --------------------------------------------------------------------------


@hookspec
def on_event(event: Event) -> None:
    """Observe every event: service state changes, audit records, check results.

    Called by the supervisor (and by ``traderctl check``) in the event loop's thread,
    synchronously, once per event and per plugin. Keep it quick: hand slow work (HTTP, files)
    to a thread or a queue. An exception is logged (``plugin_hook_failed``) and reaches
    neither the caller nor the other plugins. Returns nothing.
    """


# ---- checks -------------------------------------------------------------------------------


@hookspec
def register_checks(register: Callable[[Check], None]) -> None:
    """Declare health checks for ``traderctl check`` and scheduled check jobs.

    Called by ``traderctl check`` once per run. Call
    ``register(Check(name, run, doc, timeout))``; ``run(ctx)`` may be sync (run in a worker
    thread) or async and returns a :class:`traderctl.checks.CheckResult`. A check that raises
    or times out is reported ``unknown``; it never passes by accident. Returns nothing.
    """


# ---- shutdown -----------------------------------------------------------------------------


@hookspec
def on_shutdown() -> None:
    """The supervisor stopped every service and is about to exit.

    Called by the daemon once, in the event loop's thread. Flush what you buffered (pending
    notifications). Failures are logged like ``on_event``'s. Returns nothing.
    """
