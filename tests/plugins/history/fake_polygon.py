"""A local HTTP server answering like Polygon's aggregates endpoint, at the wire.

``GET /v2/aggs/ticker/{T}/range/{m}/{unit}/{from}/{to}`` (epoch ms or dates) with
``Authorization: Bearer KEY``: bars every ``m`` units on the grid, weekdays 04:00-20:00
New York (Polygon's extended hours), deterministic prices (daily ones at midnight New
York); pages of at most ``page``
results with a ``next_url`` carrying a cursor; ``fail_next`` requests answered 429 with
Polygon's text; tickers in ``empty`` answered with no ``results``; more than ``rate``
requests within ``per`` seconds answered 429 too and counted in ``violations``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
PATH = re.compile(r"^/v2/aggs/ticker/([^/]+)/range/(\d+)/(\w+)/([\d-]+)/([\d-]+)$")
TOO_MANY = ("You've exceeded the maximum requests per minute, please wait or upgrade your "
            "subscription to continue. https://polygon.io/pricing")


def _ms(value: str, end: bool = False) -> int:
    """Polygon's from/to: epoch ms, or a date (its whole day, New York)."""
    if value.isdigit():
        return int(value)
    day = datetime.fromisoformat(value).date() + timedelta(days=1 if end else 0)
    return int(datetime.combine(day, datetime.min.time(), NY).timestamp() * 1000) - end


class FakePolygon:
    def __init__(self, key: str = "test-polygon-key", page: int = 500, rate: int = 1000,
                 per: float = 1.0) -> None:
        self.key, self.page, self.rate, self.per = key, page, rate, per
        self.fail_next = 0
        self.empty: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.violations = 0
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server calls it by this name
                status, body = fake.answer(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePolygon:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def answer(self, raw: str, auth: str | None) -> tuple[int, dict[str, Any]]:
        url = urlsplit(raw)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            now = time.monotonic()
            self.requests.append({"path": url.path, "query": query, "at": now})
            while self._times and now - self._times[0] >= self.per:
                self._times.popleft()
            if auth != f"Bearer {self.key}":
                return 401, {"status": "ERROR", "request_id": "r", "error": "Unknown API Key"}
            if self.fail_next:
                self.fail_next -= 1
                return 429, {"status": "ERROR", "request_id": "r", "error": TOO_MANY}
            if len(self._times) >= self.rate:
                self.violations += 1
                return 429, {"status": "ERROR", "request_id": "r", "error": TOO_MANY}
            self._times.append(now)
        match = PATH.match(url.path)
        if match is None:
            return 404, {"status": "NOT_FOUND", "request_id": "r", "message": "no such path"}
        ticker, mult, unit, lo, hi = match.groups()
        step = int(mult) * UNITS[unit]
        bars = [] if ticker in self.empty else self.bars(_ms(lo), _ms(hi, end=True), step)
        offset = int(query.get("cursor", 0))
        limit = min(int(query.get("limit", 5000)), self.page)
        page = bars[offset:offset + limit]
        body: dict[str, Any] = {"ticker": ticker, "queryCount": len(page),
                                "resultsCount": len(page), "adjusted": True,
                                "status": "OK", "request_id": f"r{len(self.requests)}",
                                "count": len(page)}
        if page:
            body["results"] = page
        if offset + limit < len(bars):
            body["next_url"] = f"{self.url}{url.path}?cursor={offset + limit}&limit={limit}"
        return 200, body

    @staticmethod
    def bars(lo_ms: int, hi_ms: int, step: int) -> list[dict[str, Any]]:
        if step == UNITS["day"]:  # daily aggregates: stamped at midnight New York
            day = datetime.fromtimestamp(lo_ms / 1000, UTC).astimezone(NY).date()
            out = []
            while True:
                t = int(datetime.combine(day, datetime.min.time(), NY).timestamp())
                if t * 1000 > hi_ms:
                    return out
                if t * 1000 >= lo_ms and day.weekday() < 5:
                    out.append({"v": 1e6, "vw": 100.5, "o": 100.0, "c": 101.0, "h": 102.0,
                                "l": 99.0, "t": t * 1000, "n": 5000})
                day += timedelta(days=1)
        out = []
        t = -(-lo_ms // 1000 // step) * step  # the first grid time at or after lo
        while t * 1000 <= hi_ms:
            local = datetime.fromtimestamp(t, UTC).astimezone(NY)
            if local.weekday() < 5 and 4 <= local.hour < 20:
                price = 100 + (t // step % 1000) / 100
                out.append({"v": 1000.0 + t % 7, "vw": price + 0.01, "o": price,
                            "c": price + 0.02, "h": price + 0.05, "l": price - 0.05,
                            "t": t * 1000, "n": 10 + t % 5})
            t += step
        return out
