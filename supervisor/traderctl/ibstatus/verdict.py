"""What the parsed page means for this user: per-notice impact and the overall verdict.

A notice *affects* the user when it names an exchange the user trades, or names no exchange but
a critical platform-wide system (login, TWS / IB Gateway, market data, order routing, API; the
``critical`` flag in ``exchanges.yaml``). When a notice names exchanges, those decide: a notice
about "market data on TSEJ" is about TSEJ, not about market data everywhere.

Impact per notice (status x attribution):

=============  ============  ==================  ================================
status         affects user  names nothing known names only other venues/systems
=============  ============  ==================  ================================
problem        problem       degraded            degraded
maintenance    maintenance   info                none
information    info          info                none
normal         none          none                none
resolved       none          none                none
unknown        unknown       unknown             degraded
=============  ============  ==================  ================================

An unattributed red notice is ``degraded``, not ``problem``: most outages on the page are
exchange-specific, and one we cannot tie to the user (a venue missing from the alias table, a
vague headline) must be shown but must not page anyone at 3 a.m.; users who see it can add an
alias. An unattributed notice of unknown colour stays ``unknown``: we cannot say it is harmless.

The verdict is the worst impact: problem > unknown > maintenance > degraded > ok ("info" and
"none" leave it ok). No configured exchanges means only platform-wide systems can affect you.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from traderctl.ibstatus.aliases import AliasTable, load_alias_table
from traderctl.ibstatus.model import (
    IMPACT_ORDER,
    AssessedNotice,
    FetchResult,
    Impact,
    Notice,
    NoticeStatus,
    StatusPage,
    Verdict,
    VerdictKind,
)
from traderctl.logs import get_logger

log = get_logger(__name__)

_VERDICT_FOR: Mapping[Impact, VerdictKind] = {
    Impact.PROBLEM: VerdictKind.PROBLEM,
    Impact.UNKNOWN: VerdictKind.UNKNOWN,
    Impact.MAINTENANCE: VerdictKind.MAINTENANCE,
    Impact.DEGRADED: VerdictKind.DEGRADED,
}

_TABLE: Mapping[NoticeStatus, tuple[Impact, Impact, Impact]] = {
    # status: (affects user, unattributed, elsewhere)
    NoticeStatus.PROBLEM: (Impact.PROBLEM, Impact.DEGRADED, Impact.DEGRADED),
    NoticeStatus.MAINTENANCE: (Impact.MAINTENANCE, Impact.INFO, Impact.NONE),
    NoticeStatus.INFORMATION: (Impact.INFO, Impact.INFO, Impact.NONE),
    NoticeStatus.NORMAL: (Impact.NONE, Impact.NONE, Impact.NONE),
    NoticeStatus.RESOLVED: (Impact.NONE, Impact.NONE, Impact.NONE),
    NoticeStatus.UNKNOWN: (Impact.UNKNOWN, Impact.UNKNOWN, Impact.DEGRADED),
}


def resolve_user_exchanges(exchanges: Iterable[str], table: AliasTable) -> tuple[str, ...]:
    """Canonical codes for what the user wrote (``Xetra`` -> IBIS, ``xnys`` -> NYSE), in order."""
    out: list[str] = []
    for name in exchanges:
        code = table.resolve(name)
        if code is None or table.is_system(code):
            log.warning("ib_status_exchange_not_an_exchange", exchange=name, resolved=code)
            continue
        if code not in out:
            out.append(code)
    return tuple(out)


def assess(notice: Notice, user_exchanges: frozenset[str], table: AliasTable) -> AssessedNotice:
    """One notice's impact on this user, with a human-readable attribution."""
    affects, unattributed, elsewhere = _TABLE[notice.status]
    if notice.exchanges:
        mine = sorted(notice.exchanges & user_exchanges)
        if mine:
            return AssessedNotice(notice, affects, "exchange:" + ",".join(mine),
                                  f"names exchange(s) you use: {', '.join(mine)}")
        return AssessedNotice(notice, elsewhere, "other:" + ",".join(sorted(notice.exchanges)),
                              "names only exchanges you do not use")
    if notice.systems:
        critical = sorted(notice.systems & table.critical_systems)
        if critical:
            return AssessedNotice(notice, affects, "system:" + ",".join(critical),
                                  f"platform-wide system(s): {', '.join(critical)}")
        return AssessedNotice(notice, elsewhere, "other:" + ",".join(sorted(notice.systems)),
                              "names only non-critical systems")
    return AssessedNotice(notice, unattributed, "unattributed",
                          "names no known exchange or system")


def evaluate(page: StatusPage, user_exchanges: Iterable[str] = (),
             aliases: Mapping[str, str] | None = None,
             table: AliasTable | None = None) -> Verdict:
    """The verdict for a parsed page; notices are re-attributed with the merged alias table.

    ``table`` overrides ``aliases`` when the caller already built one.
    """
    wanted = list(user_exchanges)
    table = table or load_alias_table(aliases, wanted)
    mine = resolve_user_exchanges(wanted, table)
    if not page.understood:
        return Verdict(VerdictKind.UNKNOWN, f"status page not understood: {page.reason}",
                       user_exchanges=mine)
    assessed = tuple(assess(_attributed(n, table), frozenset(mine), table) for n in page.notices)
    relevant = tuple(sorted((a for a in assessed if a.impact is not Impact.NONE),
                            key=lambda a: IMPACT_ORDER.index(a.impact)))
    worst = relevant[0].impact if relevant else Impact.NONE
    kind = _VERDICT_FOR.get(worst, VerdictKind.OK)
    return Verdict(kind, _reason(kind, relevant, mine), relevant, assessed, mine)


def verdict_for_fetch_failure(fetch: FetchResult, user_exchanges: tuple[str, ...] = ()) -> Verdict:
    """A failed fetch is ``unknown``: never ok, never an outage."""
    where = " (cached failure)" if fetch.from_cache else ""
    return Verdict(VerdictKind.UNKNOWN, f"could not fetch IB status page: {fetch.error}{where}",
                   user_exchanges=user_exchanges, fetch=fetch)


def _attributed(notice: Notice, table: AliasTable) -> Notice:
    match = table.find(notice.text)
    return replace(notice, exchanges=match.exchanges, systems=match.systems)


def _reason(kind: VerdictKind, relevant: tuple[AssessedNotice, ...],
            mine: tuple[str, ...]) -> str:
    scope = f"exchanges {', '.join(mine)}" if mine else "no exchanges configured (platform only)"
    if kind is VerdictKind.OK:
        return f"no active IB notices affect you ({scope})"
    top = [a for a in relevant if _VERDICT_FOR.get(a.impact) is kind]
    heads = "; ".join(f"{a.notice.headline or '(no headline)'} [{a.attribution}]" for a in top)
    return f"{kind}: {heads} ({scope})"
