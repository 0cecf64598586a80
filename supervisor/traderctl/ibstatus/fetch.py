"""Fetch IB's status page politely: timeout, retries with backoff, a User-Agent, a shared cache.

``requests`` is imported inside the functions that use it so ``import traderctl.ibstatus`` stays
cheap for the CLI. A failed fetch is never cached as a success; it is cached as a failure for
``failure_ttl`` seconds (default 30 s, capped at ``ttl``) so that a burst of callers during an
IB or network outage does not each wait through timeouts and retries, while recovery is still
noticed within half a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traderctl.ibstatus.cache import cache_path, is_fresh, locked, read_cached, write_cached
from traderctl.ibstatus.model import FetchResult
from traderctl.logs import get_logger
from traderctl.private import private_dirs

log = get_logger(__name__)

DEFAULT_URL = "https://www.interactivebrokers.com/en/software/systemStatus.php"
DEFAULT_TTL = 300.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
DEFAULT_FAILURE_TTL = 30.0
DEFAULT_BACKOFF = 0.5
MAX_BODY_BYTES = 5_000_000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def user_agent() -> str:
    """``traderctl/<version> (+ops supervisor)``, so IB can tell who is asking."""
    try:
        from traderctl import __version__ as version
    except ImportError:
        version = "unknown"
    return f"traderctl/{version} (+ops supervisor)"


def fetch_status_page(
    url: str = DEFAULT_URL,
    cache_dir: Path | str | None = None,
    ttl: float = DEFAULT_TTL,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    *,
    failure_ttl: float = DEFAULT_FAILURE_TTL,
    backoff_factor: float = DEFAULT_BACKOFF,
    agent: str | None = None,
) -> FetchResult:
    """The status page, from the shared cache when fresh, else from IB (once for all callers).

    Without ``cache_dir`` every call goes to the network. Never raises for network or HTTP
    errors: they come back as ``FetchResult(ok=False, error=...)``.
    """
    if cache_dir is None:
        return download(url, timeout, retries, backoff_factor, agent)
    directory = Path(cache_dir)
    private_dirs(directory)  # under data_dir: 0700 even if this is its first creator
    path = cache_path(directory, url)

    cached = _fresh_entry(path, url, ttl, failure_ttl)
    if cached is not None:
        return cached
    wait = _worst_case_seconds(timeout, retries, backoff_factor) + 5.0
    with locked(path.with_suffix(".lock"), wait):
        # Another caller may have fetched while we waited for the lock.
        cached = _fresh_entry(path, url, ttl, failure_ttl)
        if cached is not None:
            return cached
        result = download(url, timeout, retries, backoff_factor, agent)
        try:
            write_cached(path, result)
        except OSError as exc:
            log.warning("ib_status_cache_write_failed", path=str(path), error=str(exc))
        return result


def _fresh_entry(path: Path, url: str, ttl: float, failure_ttl: float) -> FetchResult | None:
    cached = read_cached(path, url)
    if cached is not None and is_fresh(cached, datetime.now(UTC), ttl, failure_ttl):
        log.debug("ib_status_cache_hit", url=url, fetched_at=cached.fetched_at.isoformat(),
                  ok=cached.ok)
        return cached
    return None


def _worst_case_seconds(timeout: float, retries: int, backoff_factor: float) -> float:
    """Upper bound of one download: connect+read per attempt plus urllib3's backoff sleeps."""
    attempts = max(0, retries) + 1
    sleeps = sum(backoff_factor * 2 ** (n - 1) for n in range(2, attempts + 1))
    return attempts * 2 * timeout + sleeps


def download(url: str, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
             backoff_factor: float = DEFAULT_BACKOFF, agent: str | None = None) -> FetchResult:
    """One uncached GET with urllib3 retries on connection errors, timeouts and 429/5xx.

    ``Retry-After`` is not honoured: it could stall a CLI call for minutes, and the shared
    cache already bounds how often we ask.
    """
    import requests  # lazy: heavy import, only when fetching
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=max(0, retries),
        connect=max(0, retries),
        read=max(0, retries),
        status=max(0, retries),
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    headers = {"User-Agent": agent or user_agent(), "Accept": "text/html"}
    try:
        with requests.Session() as session:
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            with session.get(url, headers=headers, timeout=(timeout, timeout),
                             stream=True) as resp:
                status = resp.status_code
                body = _read_body(resp)
    except requests.RequestException as exc:
        return _failed(url, None, describe_error(exc, url))
    except _TooLarge as exc:
        return _failed(url, None, str(exc))
    if status != 200:
        return _failed(url, status, f"HTTP {status}")
    log.info("ib_status_fetched", url=url, http_status=status, chars=len(body))
    return FetchResult(url=url, ok=True, fetched_at=datetime.now(UTC), http_status=status,
                       body=body)


class _TooLarge(Exception):
    pass


def _read_body(resp: Any) -> str:
    """The body as text, refusing anything absurdly large for a status page."""
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(65536):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge(f"response larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    content_type = resp.headers.get("Content-Type", "")
    encoding = resp.encoding if "charset=" in content_type.lower() else None
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


# what urllib3 buries in a 300-character repr, by the marker it leaves in it
_CAUSES = (("NameResolutionError", "cannot resolve {host} (offline, or no DNS)"),
           ("Failed to resolve", "cannot resolve {host} (offline, or no DNS)"),
           ("Connection refused", "connection to {host} refused"),
           ("Network is unreachable", "network unreachable (offline)"),
           ("ConnectTimeout", "connecting to {host} timed out"),
           ("timed out", "{host} timed out"),
           ("SSLError", "TLS handshake with {host} failed"))


def describe_error(exc: BaseException, url: str) -> str:
    """A short reason a person can act on instead of the exception's repr."""
    from urllib.parse import urlsplit

    text = f"{type(exc).__name__}: {exc}"
    host = urlsplit(url).hostname or url
    for marker, reason in _CAUSES:
        if marker in text:
            return reason.format(host=host)
    return text if len(text) <= 160 else text[:159] + "…"


def _failed(url: str, status: int | None, error: str) -> FetchResult:
    log.warning("ib_status_fetch_failed", url=url, http_status=status, error=error)
    return FetchResult(url=url, ok=False, fetched_at=datetime.now(UTC), http_status=status,
                       error=error)
