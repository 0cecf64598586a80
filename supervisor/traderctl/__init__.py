"""traderctl: an ops supervisor for trading boxes running TWS / IB Gateway through IBC.

Plugin authors import :data:`hookimpl` from here::

    from traderctl import hookimpl

    @hookimpl
    def register_commands(cli):
        ...
"""

import pluggy

__version__ = "0.1.0"

PROJECT = "traderctl"
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)

__all__ = ["PROJECT", "__version__", "hookimpl", "hookspec"]
