"""The hooks traderctl-symbols adds to the plugin contract, the way pluggy means it.

Added with ``pm.add_hookspecs(this_module)`` from the plugin's ``add_hookspecs``
implementation (the host's historic hook, pytest's ``pytest_addhooks`` pattern), so any
plugin registered after it, built-in or third-party, can implement or call them::

    # a history plugin resolving before it downloads
    resolution = pm.hook.resolve_securities(symbols=["AAPL", "BHP:ASX"], config=config,
                                            options=None)

Grouped by lifecycle like the host's spec: registration first, then the calls made
while working.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from traderctl import hookspec

if TYPE_CHECKING:
    from traderctl_symbols.resolve import Resolution, ResolveOptions
    from traderctl_symbols.sources import SymbolSource


# ---- registration ---------------------------------------------------------------------------

@hookspec
def register_symbol_sources(register: Callable[[SymbolSource], None]) -> None:
    """Declare symbol-list sources for ``traderctl symbols fetch SOURCE``.

    Called by the symbols plugin once per ``symbols fetch``/``symbols sources`` command,
    one plugin at a time; a plugin that raises or registers a name already taken is
    logged (``plugin_load_failed``) and its sources are skipped. Call
    ``register(SymbolSource(name, doc, urls, parse))``: ``parse(name, text)`` turns one
    file's text into :class:`traderctl_symbols.sources.SymbolRow` rows. traderctl-symbols
    registers ``nasdaq`` (the Nasdaq Trader symbol directory) and ``csv``. Result rule:
    return values are ignored.
    """


# ---- resolution -----------------------------------------------------------------------------

@hookspec(firstresult=True)
def resolve_securities(symbols: Sequence[str], config: Any,
                       options: ResolveOptions | None) -> Resolution | None:
    """Which security each symbol means: ``AAPL``, ``BHP:ASX``, ``BHP:ASX:AUD``.

    Called by any plugin that needs contracts (history, orders, third parties), as often
    as it needs them, from synchronous code (the implementation may run an event loop;
    from async code call it in a thread). ``config`` is the effective
    :class:`traderctl.config.Config`; ``options`` (``None``: the ``symbols`` config
    section's defaults) gives universe, secType, currency, exchange, primary-exchange
    preference and refresh.

    Result rule: *firstresult*. Implementations run in pluggy's order (LIFO,
    ``tryfirst``/``trylast``) until one returns something other than ``None``, and that
    result is the whole answer: a plugin with its own security master can answer first
    (``tryfirst=True``) and returns ``None`` unless it can answer every symbol.
    traderctl-symbols' implementation answers from its store and asks IB for the rest,
    through the job engine. The result is a :class:`traderctl_symbols.resolve.Resolution`:
    the chosen :class:`traderctl.securities.SecurityDefinition` per symbol, every
    candidate with the rule that chose, and the unknown symbols.
    """
