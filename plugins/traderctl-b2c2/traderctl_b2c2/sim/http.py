"""The fake venue's REST side: a threaded HTTP/1.1 server (keep-alive) over VenueState."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from traderctl_b2c2.sim import reads
from traderctl_b2c2.sim.faults import Faults
from traderctl_b2c2.sim.state import Account, Reject, VenueState

Read = Callable[[VenueState, Account, dict[str, str]], Any]
READS: dict[str, Read] = {
    "/instruments/": reads.instruments, "/balance/": reads.balance,
    "/currency/": reads.currency, "/account_info/": reads.account_info,
    "/margin_requirements/": reads.margin_requirements,
    "/open_positions/": reads.open_positions,
}
HISTORIES = {"/order/": "orders", "/trade/": "trades", "/ledger/": "ledger"}
DETAIL = re.compile(r"^/(order|trade)/([^/]+)/$")


class VenueHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: VenueState, faults: Faults,
                 cursor_pages: bool) -> None:
        super().__init__(address, Handler)
        self.state, self.faults, self.cursor_pages = state, faults, cursor_pages
        self.seen: list[dict[str, str | None]] = []  # request metadata, never the token


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stalls
    server: VenueHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stderr
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        body = self._body()
        self.server.seen.append({"method": method, "path": url.path,
                                 "request_id": self.headers.get("X-Request-ID"),
                                 "user_agent": self.headers.get("User-Agent"),
                                 "auth_scheme": (self.headers.get("Authorization") or " ")
                                 .split(" ")[0] or None})
        if self.server.faults.take_rate_limit():
            retry = f"{self.server.faults.retry_after:g}"
            self._send(429, {"errors": [{"code": None, "message": "Request was throttled."}]},
                       {"Retry-After": retry})
            return
        try:
            status, answer, headers = self._route(method, url.path, params, body)
        except Reject as exc:
            answer = {"detail": exc.message} if exc.status == 401 else exc.body()
            self._send(exc.status, answer)
            return
        self._send(status, answer, headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _token(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme == "Token" and token.strip() else None

    def _route(self, method: str, path: str, params: dict[str, str], body: Any
               ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        if path == "/_sim/faults/" and method == "POST":
            return 200, self.server.faults.update(body or {}), {}
        acct = state.account(self._token())
        if not isinstance(body, dict):
            raise Reject(406, 1017, "Incorrect request format: body is not a JSON object.")
        if method == "GET" and path in READS:
            return 200, READS[path](state, acct, params), {}
        if method == "GET" and path in HISTORIES:
            return self._history(path, acct, params)
        if method == "GET" and (match := DETAIL.match(path)):
            return 200, self._detail(acct, match.group(1), match.group(2)), {}
        if method == "POST" and path == "/request_for_quote/":
            return 200, state.request_for_quote(self._token(), body), {}
        if method == "POST" and path == "/order/":
            return 200, state.order(self._token(), body), {}
        if method == "POST" and path == "/trade/":
            return 200, state.trade(self._token(), body), {}
        known = {*READS, *HISTORIES, "/request_for_quote/"}
        if path in known or DETAIL.match(path):
            raise Reject(405, 1000, f"Method {method} not allowed.")
        raise Reject(404, 1000, "Not found.")

    def _history(self, path: str, acct: Account, params: dict[str, str]
                 ) -> tuple[int, Any, dict[str, str]]:
        with self.server.state.lock:
            rows = list(getattr(acct, HISTORIES[path]))
        page, cursor = reads.history(rows, params, self.server.cursor_pages)
        headers = {}
        if cursor:
            host, port = self.server.server_address[:2]
            headers["Link"] = f'<http://{host!s}:{port}{path}?cursor={cursor}>; rel="next"'
        return 200, page, headers

    def _detail(self, acct: Account, kind: str, ident: str) -> Any:
        with self.server.state.lock:
            if kind == "order":
                rows = [o for o in acct.orders if ident in (o["order_id"], o["client_order_id"])]
            else:
                rows = [t for t in acct.trades if t["trade_id"] == ident]
        if not rows:
            raise Reject(404, 1000, f"No {kind} {ident}.")
        return rows[0]

    def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
