"""Verdicts: what the same page means for users of different exchanges."""

import json

import pytest

from traderctl.ibstatus.model import Impact, NoticeStatus, StatusPage, VerdictKind
from traderctl.ibstatus.parse import parse_status_page
from traderctl.ibstatus.verdict import evaluate

from .helpers import fixture_html

pytestmark = pytest.mark.timeout(10)


def verdict_for(name: str, exchanges=(), aliases=None):
    return evaluate(parse_status_page(fixture_html(name)), exchanges, aliases)


def test_all_normal_is_ok():
    v = verdict_for("current_normal.html", ["NYSE"])
    assert v.verdict is VerdictKind.OK
    assert v.relevant_notices == ()
    assert len(v.all_notices) == 1 and v.all_notices[0].impact is Impact.NONE


def test_outage_on_an_exchange_the_user_uses_is_a_problem():
    v = verdict_for("exchange_outage.html", ["ASX", "NYSE"])
    assert v.verdict is VerdictKind.PROBLEM
    assert v.check_status == "fail"
    top = v.relevant_notices[0]
    assert top.impact is Impact.PROBLEM and top.attribution == "exchange:ASX"
    assert "ASX: trading halted" in v.reason


def test_outage_elsewhere_is_degraded_not_failing():
    v = verdict_for("exchange_outage.html", ["NYSE", "NASDAQ"])
    assert v.verdict is VerdictKind.DEGRADED
    assert v.check_status == "warn"
    impacts = {a.notice.headline: a.impact for a in v.all_notices}
    assert impacts["ASX: trading halted"] is Impact.DEGRADED
    assert impacts["CME Globex connectivity"] is Impact.NONE       # resolved
    assert impacts["SEHK holiday"] is Impact.NONE                  # info elsewhere


def test_user_exchange_written_as_a_name_or_mic():
    assert verdict_for("exchange_outage.html", ["XASX"]).verdict is VerdictKind.PROBLEM
    assert verdict_for("exchange_outage.html", ["australian securities exchange"]).verdict \
        is VerdictKind.PROBLEM


def test_resolved_notice_never_fails_even_on_the_users_exchange():
    v = verdict_for("exchange_outage.html", ["CME"])
    assert v.verdict is VerdictKind.DEGRADED  # only because of ASX elsewhere
    cme = next(a for a in v.all_notices if "CME" in a.notice.headline)
    assert cme.notice.status is NoticeStatus.RESOLVED and cme.impact is Impact.NONE


def test_information_on_users_exchange_is_shown_but_ok():
    page = parse_status_page(fixture_html("exchange_outage.html"))
    info_only = StatusPage(tuple(n for n in page.notices if n.status is not NoticeStatus.PROBLEM),
                           True, "subset")
    v = evaluate(info_only, ["SEHK"])
    assert v.verdict is VerdictKind.OK
    assert [a.impact for a in v.relevant_notices] == [Impact.INFO]


def test_platform_wide_outage_is_a_problem_for_everyone():
    for exchanges in ([], ["NYSE"], ["TSEJ"]):
        v = verdict_for("platform_outage.html", exchanges)
        assert v.verdict is VerdictKind.PROBLEM
        assert v.relevant_notices[0].attribution == "system:login,trading_platform"


def test_scheduled_maintenance_affecting_the_user():
    v = verdict_for("maintenance.html", ["Xetra"])
    assert v.verdict is VerdictKind.MAINTENANCE
    assert v.user_exchanges == ("IBIS",)
    assert v.relevant_notices[0].attribution == "exchange:IBIS"


def test_scheduled_maintenance_elsewhere_is_ok():
    v = verdict_for("maintenance.html", ["NYSE"])
    assert v.verdict is VerdictKind.OK
    # Client Portal (non-critical) and Xetra (not used) maintenance: listed, not relevant.
    assert v.relevant_notices == ()
    assert len(v.all_notices) == 2


def test_legacy_page_mixes_problem_and_maintenance():
    assert verdict_for("legacy_bgcolor.html", ["NYSE", "EUREX"]).verdict is VerdictKind.PROBLEM
    v = verdict_for("legacy_bgcolor.html", ["EUREX"])
    assert v.verdict is VerdictKind.MAINTENANCE
    assert [a.impact for a in v.relevant_notices] == [Impact.MAINTENANCE, Impact.DEGRADED]
    assert verdict_for("legacy_bgcolor.html", ["TSEJ"]).verdict is VerdictKind.DEGRADED


def test_unattributed_outage_is_degraded_and_labelled():
    v = verdict_for("unattributed.html", ["NYSE"])
    assert v.verdict is VerdictKind.DEGRADED
    assert v.relevant_notices[0].attribution == "unattributed"


def test_user_alias_turns_unattributed_into_a_problem():
    v = verdict_for("unattributed.html", ["JSE"], aliases={"Johannesburg": "JSE"})
    assert v.verdict is VerdictKind.PROBLEM
    assert v.relevant_notices[0].attribution == "exchange:JSE"


def test_unknown_colour_on_users_exchange_is_unknown_not_ok():
    v = verdict_for("unknown_colour.html", ["NYSE"])
    assert v.verdict is VerdictKind.UNKNOWN
    assert v.check_status == "unknown"


def test_unknown_colour_elsewhere_is_degraded():
    v = verdict_for("unknown_colour.html", ["LSE"])
    assert v.verdict is VerdictKind.DEGRADED


def test_problem_outranks_unknown():
    # rgb(204, 51, 51) on KSE is a recognised outage; #123456 on NYSE is unknown.
    assert verdict_for("unknown_colour.html", ["NYSE", "KSE"]).verdict is VerdictKind.PROBLEM


@pytest.mark.parametrize("name", ["garbled.html", "empty.html", "not_available.html"])
def test_page_not_understood_is_unknown(name):
    v = verdict_for(name, ["NYSE"])
    assert v.verdict is VerdictKind.UNKNOWN
    assert v.all_notices == ()
    assert "not understood" in v.reason


def test_verdict_to_json_is_serialisable():
    v = verdict_for("legacy_bgcolor.html", ["NYSE"])
    data = json.loads(json.dumps(v.to_json()))
    assert data["verdict"] == "problem" and data["check_status"] == "fail"
    assert data["user_exchanges"] == ["NYSE"]
    assert data["relevant_notices"][0]["impact"] == "problem"
    assert data["relevant_notices"][0]["attribution"] == "exchange:NYSE"
    assert len(data["all_notices"]) == 4
