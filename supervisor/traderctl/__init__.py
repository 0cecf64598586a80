"""traderctl: an ops supervisor for trading boxes running TWS / IB Gateway through IBC.

Plugin authors import :data:`hookimpl` from here::

    from traderctl import hookimpl

    @hookimpl
    def register_commands(cli):
        ...
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker
    hookspec: pluggy.HookspecMarker


__version__ = "0.1.0"

PROJECT = "traderctl"


def __getattr__(name: str) -> object:
    # the markers import pluggy: made on first use, so that `traderctl status` (which talks
    # to the socket and never loads a plugin) does not pay for it
    import pluggy

    markers = {"hookimpl": pluggy.HookimplMarker, "hookspec": pluggy.HookspecMarker}
    if name not in markers:
        raise AttributeError(f"module 'traderctl' has no attribute {name!r}")
    marker = markers[name](PROJECT)
    globals()[name] = marker
    return marker


__all__ = ["PROJECT", "__version__", "hookimpl", "hookspec"]
