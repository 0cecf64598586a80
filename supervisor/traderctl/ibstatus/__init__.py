"""IB system status with exchange-aware filtering.

Fetches IB's public status page (shared on-disk cache, retries, timeout), parses the "System
Availability" and "Exchange Availability" tables, attributes each notice to the exchanges and
IB systems it names, and turns that into a verdict for *this* user: an outage on an exchange
they do not trade is shown but does not fail the check.

Public API::

    fetch_status_page(url, cache_dir, ttl, timeout, retries) -> FetchResult
    parse_status_page(html, table=None) -> StatusPage
    evaluate(page, user_exchanges, aliases=None, table=None) -> Verdict
    check_ib_status(settings, *, cache_dir, exchanges=None, env=None) -> Verdict
    disabled_reason(enabled, env) -> str | None
    load_alias_table(aliases=None, exchanges=()) -> AliasTable

``requests`` and ``bs4`` are imported only inside the functions that fetch and parse, so
importing this package is cheap.
"""

from traderctl.ibstatus.aliases import AliasTable, load_alias_table, shipped_table
from traderctl.ibstatus.check import IbStatusSettings, check_ib_status, disabled_reason
from traderctl.ibstatus.fetch import DEFAULT_URL, fetch_status_page, user_agent
from traderctl.ibstatus.model import (
    CHECK_STATUS,
    AssessedNotice,
    FetchResult,
    Impact,
    Notice,
    NoticeStatus,
    StatusPage,
    Verdict,
    VerdictKind,
)
from traderctl.ibstatus.parse import parse_status_page
from traderctl.ibstatus.verdict import assess, evaluate

__all__ = [
    "CHECK_STATUS",
    "DEFAULT_URL",
    "AliasTable",
    "AssessedNotice",
    "FetchResult",
    "IbStatusSettings",
    "Impact",
    "Notice",
    "NoticeStatus",
    "StatusPage",
    "Verdict",
    "VerdictKind",
    "assess",
    "check_ib_status",
    "disabled_reason",
    "evaluate",
    "fetch_status_page",
    "load_alias_table",
    "parse_status_page",
    "shipped_table",
    "user_agent",
]
