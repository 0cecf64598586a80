"""Bar sources: IB (``reqHistoricalData`` through TWS) and Polygon's REST aggregates.

A source is a name, the job kinds that fetch one planned request each, and the longest
span one job may ask for. Every source's job writes through the same batched store
writer, so bars from any source land in the same series (``<conId>/<bar size>/<WHAT>``)
with their ``source`` column and coverage tagged by the source's name.

Polygon (``history.polygon``: ``api_key`` secret, ``url``, ``rate`` requests per
``per``): ``GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}``
with the key as a bearer token (never in a URL, so never in a log), ``sort=asc``,
``limit=50000``, every ``next_url`` page followed, each page paced by the ``polygon``
limiter profile (5 a minute by default: Polygon's free tier), a 429 raised for the
engine as a pacing error (retry, the profile slows down), 401/403 permanent, an
empty ``results`` recorded as no data. ``requests`` rather than the official client: that
client retries 429 inside urllib3, where the shared limiter cannot see it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from traderctl.securities import SecurityDefinition
from traderctl_history.barsizes import DAY, BarSize

POLYGON_KIND = "history.polygon"
POLYGON_MAX_BARS = 50_000


@dataclass(frozen=True)
class BarSource:
    name: str
    doc: str
    kind: str                       # job kind for bars above 30 s (and small ones too
    small_kind: str | None          # unless this names another kind)
    max_seconds: Callable[[BarSize], int]
    needs_tws: bool = False         # download checks TWS and the worker waits for it
    whats: tuple[str, ...] = ("TRADES", "MIDPOINT", "BID_ASK", "ADJUSTED_LAST")

    def kind_for(self, size: BarSize) -> str:
        return self.small_kind if size.small and self.small_kind else self.kind


def _ib_max(size: BarSize) -> int:
    return size.max_seconds


def _polygon_max(size: BarSize) -> int:
    return min(POLYGON_MAX_BARS * size.seconds, 30 * DAY)


def builtin_sources() -> list[BarSource]:
    from traderctl_history.jobs import KIND, SMALL_KIND

    return [BarSource("ib", "Interactive Brokers through TWS (reqHistoricalData).", KIND,
                      SMALL_KIND, _ib_max, needs_tws=True),
            BarSource("polygon", "Polygon.io REST aggregates (history.polygon.api_key).",
                      POLYGON_KIND, None, _polygon_max,
                      whats=("TRADES", "ADJUSTED_LAST"))]


# ---- Polygon ------------------------------------------------------------------------------


class PolygonError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Polygon HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class PolygonSettings:
    url: str
    api_key: str | None
    rate: int
    per: float


def polygon_settings(config: Any) -> PolygonSettings:
    """``history.polygon``; the key from ``$POLYGON_API_KEY`` when the config has none."""
    import os

    section = config.get("history.polygon") or {}
    return PolygonSettings(str(section.get("url") or "https://api.polygon.io").rstrip("/"),
                           section.get("api_key") or os.environ.get("POLYGON_API_KEY"),
                           int(section.get("rate") or 5), float(section.get("per") or 60.0))


def configured_kinds(config: Any) -> dict[str, Any]:
    """This plugin's job kinds, Polygon's paced as ``history.polygon`` says (scaled by
    ``jobs.time_scale`` like IB's), and the Polygon settings installed for its jobs."""
    from traderctl_history.jobs import job_kinds

    settings = polygon_settings(config)
    configure_polygon(settings)
    scale = float(config.get("jobs.time_scale") or 1.0)
    return {k.name: k for k in job_kinds(polygon_profile(settings, scale))}


def polygon_profile(settings: PolygonSettings, time_scale: float = 1.0) -> Any:
    from traderctl.jobs.rules import Profile, per_window

    return Profile("polygon", windows=(per_window("polygon.rate", settings.rate,
                                                  settings.per * time_scale),),
                   until_reply=True)


def timespan(size: BarSize) -> tuple[int, str]:
    """Polygon's ``multiplier``/``timespan`` for an IB bar size."""
    for unit, name in ((DAY, "day"), (3600, "hour"), (60, "minute")):
        if size.seconds % unit == 0:
            return size.seconds // unit, name
    return size.seconds, "second"


def classify_polygon(exc: BaseException) -> Any:
    from traderctl.jobs import Verdict

    if isinstance(exc, PolygonError):
        if exc.status == 429:
            return Verdict.PACING
        if exc.status in (400, 401, 403, 404):
            return Verdict.PERMANENT
        return Verdict.RETRY
    if isinstance(exc, OSError):  # requests' ConnectionError and Timeout are OSErrors
        return Verdict.RETRY
    return None


def polygon_job_kind(profile: Any = None) -> Any:
    from traderctl.jobs import JobKind

    if profile is None:
        profile = polygon_profile(PolygonSettings("", None, 5, 60.0))
    return JobKind(POLYGON_KIND, polygon_job, profile=profile, timeout=300.0,
                   classify=classify_polygon, needs_tws=False,
                   doc="Polygon aggregates for one planned span; written to the history store.")


_SETTINGS: list[PolygonSettings] = []


def configure_polygon(settings: PolygonSettings) -> None:
    _SETTINGS[:] = [settings]


async def polygon_job(job: Any, ctx: Any) -> dict[str, Any]:
    from traderctl.jobs import PermanentError
    from traderctl_history.jobs import opens, prepare, stored, write_bars

    if not _SETTINGS:
        raise PermanentError("history.polygon jobs run under `traderctl history download` "
                             "or `traderctl history worker`")
    if not _SETTINGS[0].api_key:
        raise PermanentError("history.polygon.api_key is not set (nor $POLYGON_API_KEY)")
    settings = _SETTINGS[0]
    p = job.payload
    security, size, series, span, store = prepare(job)
    if job.attempts > 1 and await asyncio.to_thread(stored, store, series, span,
                                                    bool(p.get("refresh"))):
        return {"bars": 0, "no_data": False, "stored": True}
    results = await fetch_aggregates(ctx, settings, security, size, span,
                                     adjusted=p["what"] == "ADJUSTED_LAST")
    pieces = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in p["pieces"]]
    frame = aggregates_frame(results, pieces, "polygon", opens(security, size, bool(p["rth"])),
                             security.zone)
    await write_bars(store, series, security, span, frame, "polygon")
    return {"bars": len(frame), "no_data": not len(frame)}


async def fetch_aggregates(ctx: Any, settings: PolygonSettings, security: SecurityDefinition,
                           size: BarSize, span: tuple[datetime, datetime],
                           adjusted: bool) -> list[dict[str, Any]]:
    """Every aggregate of ``span`` (start inclusive, end exclusive), page after page."""
    import requests

    multiplier, unit = timespan(size)
    if size.daily:  # daily aggregates are stamped at midnight: ask by trade date
        zone = security.zone
        lo = span[0].astimezone(zone).date().isoformat()
        hi = (span[1] - timedelta(microseconds=1)).astimezone(zone).date().isoformat()
    else:
        lo, hi = str(int(span[0].timestamp() * 1000)), str(int(span[1].timestamp() * 1000) - 1)
    url: str | None = (f"{settings.url}/v2/aggs/ticker/{security.symbol}/range/{multiplier}/"
                       f"{unit}/{lo}/{hi}")
    params: dict[str, str] | None = {"adjusted": "true" if adjusted else "false",
                                     "sort": "asc", "limit": str(POLYGON_MAX_BARS)}
    headers = {"Authorization": f"Bearer {settings.api_key}"}
    results: list[dict[str, Any]] = []
    with requests.Session() as http:
        while url:
            async with ctx.pace():
                reply = await asyncio.to_thread(http.get, url, params=params,
                                                headers=headers, timeout=60)
            body = _json(reply)
            if reply.status_code != 200 or body.get("status") == "ERROR":
                raise PolygonError(reply.status_code, str(body.get("error")
                                                          or body.get("message")
                                                          or reply.reason))
            results += body.get("results") or []
            url, params = body.get("next_url"), None  # the cursor carries the query
    return results


def _json(reply: Any) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {"error": reply.text[:200]}
    return body if isinstance(body, dict) else {}


def aggregates_frame(results: list[dict[str, Any]], pieces: list[tuple[datetime, datetime]],
                     source: str, open_of: Any = None, zone: Any = UTC) -> Any:
    """Polygon's ``results`` -> the store's frame, only bars starting inside ``pieces``
    (the planned sessions: Polygon also answers for extended hours and between them);
    ``open_of``: a daily aggregate (stamped at its day's midnight in ``zone``) is stamped
    at its session's open, as IB's daily bars are."""
    import pandas as pd

    from traderctl_history.store import COLUMNS, empty_frame

    keys = {"open": "o", "high": "h", "low": "l", "close": "c", "volume": "v", "wap": "vw",
            "count": "n"}
    rows = []
    for r in results:
        t = datetime.fromtimestamp(r["t"] / 1000, UTC)
        if open_of is not None:
            t = open_of(t.astimezone(zone).date())
        if any(lo <= t < hi for lo, hi in pieces):
            rows.append((t, r))
    if not rows:
        return empty_frame()
    index = pd.DatetimeIndex([t for t, _ in rows], name="time").as_unit("ns")
    frame = pd.DataFrame({c: [float(r.get(keys[c]) or 0.0) for _, r in rows]
                          for c in COLUMNS}, index=index)
    frame["source"] = source
    return frame[~frame.index.duplicated(keep="last")].sort_index()
