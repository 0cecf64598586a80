"""When a TWS session is expected to be away, so failures are reported, not acted on.

Three sources:

* **IB's reset windows** (``configs/reset-windows.yaml`` or ``reset_windows``).
* **the restarts configured in IBC**: the daily ``AutoRestartTime`` (in TWS's time
  zone, ``auto_restart_outage`` long) and the Sunday ``ColdRestartTime`` (local time).
* **restarts IBC announces** while the service runs: ``Re-starting session`` (the
  daily auto-restart or a RESTART: no second factor) and ``IBC will cold-restart
  shortly`` (a full login). Until the API answers again, and at most
  ``auto_restart_outage`` / ``startup_timeout``, the service waits instead of
  counting failures: no restart, no backoff.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from traderctl.events import utcnow
from traderctl.logs import get_logger
from traderctl.tws import windows as reset
from traderctl.tws.tz import TwsTimeZone

if TYPE_CHECKING:
    from traderctl.tws.servicetype import TwsSpec

log = get_logger(__name__)


class ConfigProblem(ValueError):
    """The service cannot be started as configured (the message names no secret)."""


class Outages:
    """The expected outages of one tws service (see the module doc)."""

    def __init__(self, spec: TwsSpec, name: str, simulated: bool) -> None:
        self.spec = spec
        self.name = name
        self.simulated = simulated
        self.windows: list[reset.ResetWindow] = []
        self.timezone: TwsTimeZone | None = None
        self.restarting: str | None = None   # what IBC announced, while it lasts
        self._restart_until = 0.0            # monotonic bound of the announced restart
        self.cold_restart_at: str | None = None  # as IBC printed it, local time

    def load(self, config_source: str | None) -> None:
        """(Re)read the reset windows; ConfigProblem if they are malformed."""
        self.windows = reset.for_regions(self._all_windows(config_source),
                                         self.spec["reset_regions"])

    def _all_windows(self, config_source: str | None) -> list[reset.ResetWindow]:
        inline = self.spec["reset_windows"]
        if inline is not None:
            try:
                return reset.parse_windows(inline)
            except ValueError as exc:
                raise ConfigProblem(f"reset_windows: {exc}") from None
        path = self.spec["reset_windows_file"] or reset.default_windows_file(config_source)
        if path is None:
            log.warning("tws_reset_windows_missing", service=self.name,
                        hint="no reset-windows.yaml found; failures are acted on at any time")
            return []
        try:
            return reset.load_windows_file(path)
        except ValueError as exc:
            raise ConfigProblem(str(exc)) from None

    # ---- announced by IBC ----------------------------------------------------------------

    def ibc_restarting(self, what: str, within: float) -> None:
        self.restarting = what
        self._restart_until = time.monotonic() + within

    def api_back(self) -> None:
        self.restarting = None

    def announced(self) -> str | None:
        """IBC's own restart in progress (within its bound), or None."""
        if self.restarting is not None and time.monotonic() > self._restart_until:
            log.warning("tws_ibc_restart_overdue", service=self.name, restart=self.restarting)
            self.restarting = None
        return self.restarting

    # ---- by the clock --------------------------------------------------------------------

    def active(self, now: datetime | None = None) -> reset.ActiveWindow | None:
        return reset.active_window([*self.windows, *self.restart_windows()], now or utcnow())

    def restart_windows(self) -> list[reset.ResetWindow]:
        spec = self.spec
        length = timedelta(seconds=spec["auto_restart_outage"])
        if self.simulated or length <= timedelta(0):
            return []
        found = []
        if spec["auto_restart_time"]:
            found.append(reset.daily_window("daily auto-restart",
                                            reset.parse_time(spec["auto_restart_time"], "time"),
                                            length, self._tws_zone_name()))
        if spec["cold_restart_time"]:
            found.append(reset.daily_window("Sunday cold restart",
                                            reset.parse_time(spec["cold_restart_time"], "time"),
                                            length, local_zone_name(), days=[6]))
        return found

    def _tws_zone_name(self) -> str:
        tz = self.timezone
        if tz is not None and tz.source != "offset":
            return tz.name
        return local_zone_name()


def local_zone_name() -> str:
    """This machine's IANA zone (from $TZ or /etc/localtime), UTC if unknown."""
    from zoneinfo import ZoneInfo

    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        target = os.path.realpath("/etc/localtime")
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError: any bad name
        return "UTC"
    return name
