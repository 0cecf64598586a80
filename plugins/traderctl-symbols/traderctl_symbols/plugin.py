"""Hook implementations of traderctl-symbols (the entry module: imports stay light).

Adds its own hooks (:mod:`traderctl_symbols.hookspecs`) through the host's historic
``add_hookspecs`` hook, then implements them like any other plugin would: the ``nasdaq``
and ``csv`` symbol sources and ``resolve_securities``. Also: the ``symbols`` config
section, ``traderctl symbols ...`` (imported only when run), the ``symbols.resolve`` job
kind, and the universes' primary exchanges for the IB status check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from traderctl import hookimpl

if TYPE_CHECKING:
    from traderctl_symbols.resolve import Resolution, ResolveOptions
    from traderctl_symbols.sources import SymbolSource

DEFAULT_PREFER_PRIMARY = ["NASDAQ", "NYSE", "ARCA", "AMEX", "BATS"]


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from traderctl_symbols import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def register_config(register: Callable[[Any], None]) -> None:
    from traderctl.config import ConfigSection, Field, Section, Str
    from traderctl.config.schema import FilePath, ListOf

    register(ConfigSection("symbols", Section({
        "store": Field(FilePath(), None,
                       "Universe store (default <supervisor.data_dir>/symbols/universe.sqlite)."),
        "universe": Field(Str(), "default", "Universe that resolve adds to by default."),
        "prefer_primary": Field(ListOf(Str(), allow_string=True), DEFAULT_PREFER_PRIMARY,
                                "Primary exchanges preferred, in order, when a symbol has "
                                "several listings."),
        "prefer_currency": Field(Str(), "USD",
                                 "Currency preferred after the primary-exchange preference."),
    }, doc="Symbol lists, the universe store and symbol to IB contract resolution.")))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_lazy("symbols", "traderctl_symbols.cli:symbols",
                 "Symbol lists, the universe store, resolution to IB contracts.")


@hookimpl
def register_symbol_sources(register: Callable[[SymbolSource], None]) -> None:
    from traderctl_symbols.sources import BUILTIN_SOURCES

    for source in BUILTIN_SOURCES:
        register(source)


@hookimpl
def register_job_kinds(register: Callable[[Any], None]) -> None:
    from traderctl_symbols.resolve import job_kind

    register(job_kind())


@hookimpl
def resolve_securities(symbols: Sequence[str], config: Any,
                       options: ResolveOptions | None) -> Resolution:
    from traderctl_symbols.query import SymbolQuery
    from traderctl_symbols.resolve import ResolveOptions, resolve

    opts = options or ResolveOptions(progress=False)
    queries = [SymbolQuery.parse(s, opts.sec_type, opts.currency, opts.exchange)
               for s in symbols]
    return resolve(config, queries, opts)


@hookimpl
def ib_status_exchanges(config: Any) -> list[str]:
    """Primary exchanges of every stored universe (none before the first resolve)."""
    from traderctl_symbols.store import UniverseStore, store_path

    path = store_path(config)
    if not path.exists():
        return []
    with UniverseStore(path) as store:
        return store.primary_exchanges()
