"""Reloading the config: one reload at a time, requests merged, parsed off the loop.

Two reloads running at once both saw a changed service as changed and both
started a replacement: two copies, one untracked (for a ``tws`` service, two
logins with one account). So reloads are serialized, and requests that queue up
behind one in progress are answered by a single further reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from traderctl.config import ConfigError
from traderctl.daemon.control import RequestError
from traderctl.events import Event
from traderctl.services.spec import service_specs, topological_order

if TYPE_CHECKING:
    from traderctl.daemon.supervisor import Supervisor


class ReloadQueue:
    """Runs one reload at a time; a request already covered by a later reload is merged."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.requested = 0  # requests made so far
        self.covered = 0  # requests answered by the last finished reload (made before it began)
        self.result: dict[str, Any] | None = None

    async def submit(self, reload: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        self.requested += 1
        ticket = self.requested
        async with self.lock:
            if self.covered >= ticket and self.result is not None:
                return self.result  # a reload that began after this request read the file
            covers = self.requested
            result = await reload()
            self.covered, self.result = covers, result
            return result


async def apply_reload(sup: Supervisor, source: str) -> dict[str, Any]:
    """Read the config (in a thread) and add, remove and restart what changed."""
    assert sup.reload_config is not None
    if sup.stopping.is_set():
        raise RequestError("the supervisor is shutting down")
    try:
        # off the loop: a slow or hostile file must not freeze supervision while parsed
        new = await asyncio.to_thread(sup.reload_config)
    except ConfigError as exc:
        problems = [str(p) for p in exc.problems]
        sup.emit(Event("reload_refused", {"source": source, "problems": problems}))
        raise RequestError("new configuration is invalid, keeping the running one:\n"
                           + "\n".join(problems)) from None
    sup.apply_secrets(new)
    old_specs = {n: r.spec for n, r in sup.runners.items()}
    new_specs = service_specs(new)
    removed = [n for n in old_specs if n not in new_specs]
    changed = [n for n in old_specs if n in new_specs and new_specs[n] != old_specs[n]]
    added = [n for n in new_specs if n not in old_specs]
    await sup.stop_services(removed + changed)
    sup.config = new
    for name in topological_order(new_specs):
        if name in added or name in changed:
            sup.add_runner(name, new_specs[name])
    for runner in sup.runners.values():
        runner.poke()
    sup.scheduler.reschedule()
    sup.pm.notify("on_config", config=new)
    result = {"added": added, "removed": removed, "restarted": changed}
    sup.emit(Event("config_reloaded", {"source": source, **result}))
    return result
