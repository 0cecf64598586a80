"""How this client names itself to the venue: a versioned User-Agent (REST and WebSocket)."""

from __future__ import annotations

import platform
from functools import cache


@cache
def user_agent() -> str:
    from traderctl import __version__ as core_version
    from traderctl_b2c2 import __version__

    return (f"traderctl-b2c2/{__version__} traderctl/{core_version} "
            f"python/{platform.python_version()}")
