"""One ib_async connection per worker, shared by its jobs, and IB errors as exceptions.

ib_async is imported inside the functions: this module is loaded by the worker only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from traderctl.jobs.retry import IBError

T = TypeVar("T")
# 2100-2169 are warnings and farm notices; 10167 "displaying delayed data"
INFO_CODES = frozenset(range(2100, 2170)) | {10167}


class IBConnection:
    def __init__(self, host: str, port: int, client_id: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.client_id, self.timeout = host, port, client_id, timeout
        self._ib: Any = None
        self._lock = asyncio.Lock()

    async def get(self) -> Any:
        async with self._lock:
            if self._ib is not None and self._ib.isConnected():
                return self._ib
            self.reset()
            from ib_async import IB

            from traderctl.tws.session import connect, quiet

            ib = IB()
            quiet(ib)
            try:
                await connect(ib, self.host, self.port, self.client_id, self.timeout)
            except BaseException:
                ib.disconnect()
                raise
            self._ib = ib
            return ib

    def reset(self) -> None:
        """Drop the connection (after an outage: replies of a frozen TWS are not trusted)."""
        from traderctl.tws.session import close

        ib, self._ib = self._ib, None
        close(ib)


async def raising_ib_errors(ib: Any, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call()``; if TWS reported an error meanwhile and the call returned nothing,
    raise it as :class:`IBError` (ib_async logs request errors and returns empty)."""
    errors: list[IBError] = []

    def on_error(req_id: int, code: int, text: str, *_: Any) -> None:
        if code not in INFO_CODES:
            errors.append(IBError(code, text, req_id))

    ib.errorEvent += on_error
    try:
        result = await call()
    finally:
        ib.errorEvent -= on_error
    if errors and not result:
        raise errors[-1]
    return result
