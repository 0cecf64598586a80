"""Holidays and early closes from ``exchange_calendars``, applied to the weekly templates.

Each universe calendar maps to an exchange_calendars code (US -> XNYS, LSE ->
XLON, ...; the Globex futures calendars follow XNYS holidays, IDEALPRO has
none). A template session is dropped on a day that is not a session of that
exchange (holidays), and its close (and the liquid-hours close) is clipped
to the exchange's early close on half days (the day after Thanksgiving,
Christmas Eve, ...). Because bars, live prices, contract-details
``tradingHours``/``liquidHours`` and the matching engine all expand sessions
through :mod:`.hours`, they agree with each other and with the library.

exchange_calendars (and pandas) is imported on first use and the result is
cached per exchange and year. Without it (the fake IBC launcher runs the
simulator under a bare ``python3``) the weekly templates apply unchanged.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time
from functools import lru_cache

from ._log import get_logger

log = get_logger(__name__)

CODES = {
    "US": "XNYS",
    "TSE_CA": "XTSE",
    "XETRA": "XETR",
    "EURONEXT": "XPAR",
    "SIX": "XSWX",
    "LSE": "XLON",
    "NORDIC": "XSTO",
    "TSEJ": "XTKS",
    "SEHK": "XHKG",
    "ASX": "XASX",
    "SGX": "XSES",
}


def code_for(calendar_name: str) -> str | None:
    if calendar_name.startswith("GLOBEX_"):
        return "XNYS"
    return CODES.get(calendar_name)


@lru_cache(maxsize=1)
def _library() -> object | None:
    try:
        with warnings.catch_warnings():  # the library's own pandas deprecations are not ours
            warnings.simplefilter("ignore", Warning)
            import exchange_calendars  # type: ignore[import-untyped]  # heavy: pandas
    except ImportError:
        log.info("sim_tws_no_holiday_calendars", reason="exchange_calendars not installed")
        return None
    return exchange_calendars


@lru_cache(maxsize=256)
def _year(code: str, year: int) -> tuple[frozenset[date], dict[date, time]] | None:
    """(sessions, early closes in local time) of ``code`` in ``year``."""
    lib = _library()
    if lib is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Warning)  # exchange_calendars vs newer pandas
        return _load_year(lib, code, year)


def _load_year(
    lib: object, code: str, year: int
) -> tuple[frozenset[date], dict[date, time]] | None:
    try:
        cal = lib.get_calendar(code)  # type: ignore[attr-defined]
        start = max(date(year, 1, 1), cal.first_session.date())
        end = min(date(year, 12, 31), cal.last_session.date())
        if start > end:
            return None
        sessions = cal.sessions_in_range(start.isoformat(), end.isoformat())
        days = frozenset(s.date() for s in sessions)
        early: dict[date, time] = {}
        for ts in cal.early_closes:
            if ts.year == year:
                close = cal.session_close(ts).tz_convert(cal.tz)
                early[ts.date()] = time(close.hour, close.minute)
    except Exception as exc:  # a library failure must not take the simulator down
        log.warning("sim_tws_calendar_unavailable", code=code, year=year, error=repr(exc))
        return None
    return days, early


def session_day(calendar_name: str, day: date) -> tuple[bool, time | None]:
    """(is ``day`` a trading day, its early close in exchange time or None)."""
    code = code_for(calendar_name)
    info = _year(code, day.year) if code else None
    if info is None:  # no library or no code: the weekly template decides
        return True, None
    days, early = info
    return day in days, early.get(day)


def clip(close: datetime, early: time | None) -> datetime:
    """``close`` moved back to the early close of its day, if that is earlier."""
    if early is None:
        return close
    cut = close.replace(hour=early.hour, minute=early.minute)
    return min(close, cut)
