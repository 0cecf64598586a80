"""Securities as IB knows them: :class:`SecurityDefinition` and its exchange time handling.

* :mod:`.definition`: the frozen definition (identity ``con_id``), from ib_async or a row;
* :mod:`.sessions`: ``tradingHours``/``liquidHours`` parsed into UTC sessions;
* :mod:`.zones`: IB zone names to IANA, the aware-UTC rule, TWS-local times.

Light to import (standard library only); ib_async is imported inside the functions that
build ib_async objects.
"""

from traderctl.securities.definition import SecurityDefinition
from traderctl.securities.sessions import Hours, HoursFormatError, Session, parse_hours
from traderctl.securities.zones import (
    IB_ZONES,
    NaiveDatetimeError,
    UnknownZoneError,
    format_tws_time,
    iana_name,
    ib_zone,
    require_utc,
    tws_local,
)

__all__ = [
    "IB_ZONES",
    "Hours",
    "HoursFormatError",
    "NaiveDatetimeError",
    "SecurityDefinition",
    "Session",
    "UnknownZoneError",
    "format_tws_time",
    "iana_name",
    "ib_zone",
    "parse_hours",
    "require_utc",
    "tws_local",
]
