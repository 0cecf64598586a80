"""Built-in plugin: ``traderctl ib-status``, the ``ib_status`` check and its own hook.

The ``checks.ib_status`` config section is declared with the other check settings in
:mod:`traderctl.checks.plugin`. The hook ``ib_status_exchanges`` serves this feature only, so
this plugin brings its spec (:class:`IbStatusSpec`) through ``add_hookspecs``, the way any
plugin adds hooks for others to implement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from traderctl import hookimpl, hookspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from traderctl.checks import Check
    from traderctl.cli.main import LazyGroup
    from traderctl.config.loader import Config
    from traderctl.plugin.manager import PluginManager


class IbStatusSpec:
    """Hooks of the IB status feature."""

    @hookspec
    def ib_status_exchanges(self, config: Config) -> list[str] | None:
        """Exchanges the user trades, to add to ``checks.ib_status.exchanges``.

        Called by the IB status check (``traderctl check``, ``traderctl ib-status``, the
        gate before a tws start) once per run, with the effective config. Return IB exchange
        codes or MICs (``NYSE``, ``XNAS``), or None; every plugin's lists are merged in call
        order, duplicates dropped. A plugin that raises or returns something else is logged
        and named in the check's details, and the check's ``ok`` turns ``warn``. A plugin
        that knows the user's securities (symbols) returns their primary exchanges; one that
        must also load without this built-in marks it ``@hookimpl(optionalhook=True)``.
        """


@hookimpl
def add_hookspecs(pm: PluginManager) -> None:
    pm.add_hookspecs(IbStatusSpec)


@hookimpl
def register_commands(cli: LazyGroup) -> None:
    cli.add_lazy("ib-status", "traderctl.commands.ib_status:ib_status",
                 "IB system status for your exchanges.")


@hookimpl
def register_checks(register: Callable[[Check], None]) -> None:
    from traderctl.checks import Check
    from traderctl.ibstatus.configured import ib_status_check

    register(Check("ib_status", ib_status_check,
                   "IB's status page shows no problem on your exchanges or platform-wide."))
