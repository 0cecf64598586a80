"""Downloads for symbol sources: requests with timeouts, retries and a progress bar.

Retries (urllib3's ``Retry``) cover connection errors and 429/5xx answers with
exponential backoff; a 4xx is an answer, not a reason to retry. The progress bar (rich)
goes to stderr, on a terminal only, so stdout keeps carrying data.
"""

from __future__ import annotations

import sys
from typing import Any

from traderctl.logs import get_logger

log = get_logger(__name__)

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
RETRIES = 3
CHUNK = 64 * 1024


class DownloadError(RuntimeError):
    """A download that failed for good (after the retries)."""


def session(retries: int = RETRIES, backoff: float = 0.5) -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=("GET",), raise_on_status=False)
    s = requests.Session()
    s.headers["User-Agent"] = "traderctl-symbols"
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    return s


def fetch_text(url: str, http: Any = None, progress: bool | None = None,
               timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> str:
    """GET ``url`` as text; raises :class:`DownloadError` with the reason."""
    import requests

    http = http or session()
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with http.get(url, stream=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise DownloadError(f"{url}: HTTP {resp.status_code} {resp.reason}")
            body = _read_body(resp, url, show)
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from None
    log.info("symbols_downloaded", url=url, bytes=len(body))
    return body.decode("utf-8-sig", errors="replace")  # the directory files are ASCII


def _read_body(resp: Any, url: str, show: bool) -> bytes:
    total = int(resp.headers.get("Content-Length") or 0) or None
    chunks: list[bytes] = []
    if not show:
        for chunk in resp.iter_content(CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(url.rsplit("/", 1)[-1], total=total)
        for chunk in resp.iter_content(CHUNK):
            chunks.append(chunk)
            bar.advance(task, len(chunk))
    return b"".join(chunks)
