"""The hook traderctl-history adds to the plugin contract: where bars come from.

Added through the host's historic ``add_hookspecs`` (as traderctl-symbols adds its own),
so any plugin can register a source that ``traderctl history download --source NAME``
then plans and runs like IB's: one job per request, written to the same store, tagged
with the source's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from traderctl import hookspec

if TYPE_CHECKING:
    from traderctl_history.sources import BarSource


@hookspec
def register_bar_sources(register: Callable[[BarSource], None]) -> None:
    """Declare bar sources for ``history download --source NAME``.

    Call ``register(BarSource(name, doc, kind, small_kind, max_seconds, needs_tws))``:
    ``kind`` (and ``small_kind`` for bars of 30 s or less) name job kinds the plugin
    registers through ``register_job_kinds``; their handler gets the payload described in
    :mod:`traderctl_history.sources` and returns after writing through
    :func:`traderctl_history.jobs.write_bars`. ``max_seconds(bar_size)`` is the longest
    span one job may ask for. traderctl-history registers ``ib`` and ``polygon``. Result
    rule: return values are ignored; a name already taken is refused (the later loses).
    """
