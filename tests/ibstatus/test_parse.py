"""Parsing the fixtures: both markups, every row, dates in UTC, pages not understood."""

from datetime import UTC, datetime

import pytest

from traderctl.ibstatus.model import NoticeStatus
from traderctl.ibstatus.parse import parse_status_page

from .helpers import fixture_html

pytestmark = pytest.mark.timeout(10)


def test_current_markup_all_normal():
    page = parse_status_page(fixture_html("current_normal.html"))
    assert page.understood
    [notice] = page.notices
    assert notice.table == "System Availability"
    assert notice.status is NoticeStatus.NORMAL
    assert notice.colour == "#66cc33"
    assert notice.headline == "No problems"
    assert notice.details == "No problems reported at this time."
    # Date-only: midnight US/Eastern (EST in March before DST) -> 05:00 UTC.
    assert notice.created == datetime(2024, 3, 4, 5, 0, tzinfo=UTC)


def test_legacy_bgcolor_markup_reads_every_exchange_row():
    page = parse_status_page(fixture_html("legacy_bgcolor.html"))
    assert page.understood
    tables = [n.table for n in page.notices]
    assert tables == ["System Availability"] + ["Exchange Availability"] * 3
    system, nyse, eurex, tokyo = page.notices
    assert system.status is NoticeStatus.NORMAL and system.colour == "#66cc33"
    assert nyse.status is NoticeStatus.PROBLEM and nyse.colour == "#cc3333"
    assert nyse.headline == "NYSE - Order routing interrupted"
    assert "Orders for other venues are not affected." in nyse.details
    assert nyse.exchanges == {"NYSE"} and nyse.systems == {"order_routing"}
    # 09:42 EST on 2023-11-21 = 14:42 UTC.
    assert nyse.created == datetime(2023, 11, 21, 14, 42, tzinfo=UTC)
    assert nyse.updated == datetime(2023, 11, 21, 15, 5, tzinfo=UTC)
    assert eurex.status is NoticeStatus.MAINTENANCE and eurex.exchanges == {"EUREX"}
    assert tokyo.status is NoticeStatus.RESOLVED
    assert tokyo.exchanges == {"TSEJ"} and tokyo.systems == {"market_data"}
    for notice in page.notices:
        assert notice.created is not None and notice.created.tzinfo is UTC


def test_style_markup_multi_row_exchange_table():
    page = parse_status_page(fixture_html("exchange_outage.html"))
    statuses = [(n.table, n.status) for n in page.notices]
    assert statuses == [
        ("System Availability", NoticeStatus.NORMAL),
        ("Exchange Availability", NoticeStatus.PROBLEM),
        ("Exchange Availability", NoticeStatus.RESOLVED),
        ("Exchange Availability", NoticeStatus.INFORMATION),
    ]
    asx = page.notices[1]
    assert asx.exchanges == {"ASX"}
    # Summer: EDT (UTC-4).
    assert asx.created == datetime(2024, 7, 2, 23, 10, tzinfo=UTC)


def test_unknown_colours_are_reported_not_guessed():
    page = parse_status_page(fixture_html("unknown_colour.html"))
    assert page.understood
    odd, rgb, named = page.notices
    assert odd.status is NoticeStatus.UNKNOWN and odd.colour == "#123456"
    assert rgb.status is NoticeStatus.PROBLEM and rgb.colour == "#cc3333"
    assert named.status is NoticeStatus.UNKNOWN and named.colour == "red"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("garbled.html", "no 'System Availability'"),
        ("empty.html", "empty page"),
        ("not_available.html", "currently not available"),
    ],
)
def test_pages_not_understood(name, reason):
    page = parse_status_page(fixture_html(name))
    assert not page.understood
    assert page.notices == ()
    assert reason in page.reason


def test_empty_string_and_bytes_free_text():
    assert not parse_status_page("").understood
    assert not parse_status_page("just some words").understood


def test_no_problems_text_without_table_is_understood():
    page = parse_status_page(fixture_html("no_table_no_problems.html"))
    assert page.understood and page.notices == ()


def test_title_without_rows_is_not_understood():
    html = ('<table class="TableOutline"><tr><td class="CellTitle">System Availability</td></tr>'
            '<tr><td class="columnheader">Stat</td><td class="columnheader">Message</td></tr>'
            "</table>")
    page = parse_status_page(html)
    assert not page.understood
    assert "no notice rows" in page.reason


def test_times_with_am_pm_and_seconds_and_bad_dates():
    html = ('<table><tr><td class="CellTitle">System Availability</td></tr><tr>'
            '<td bgcolor="#999999"></td><td><b>TWS</b> fixed</td>'
            "<td>2024/01/10 1:30:15 PM<br>2024/02/30</td></tr></table>")
    [notice] = parse_status_page(html).notices
    assert notice.created == datetime(2024, 1, 10, 18, 30, 15, tzinfo=UTC)
    assert notice.updated is None  # 30 February is skipped, not invented
    assert notice.headline == "TWS" and notice.details == "fixed"


def test_page_json_round_trips_through_json_module():
    import json

    page = parse_status_page(fixture_html("legacy_bgcolor.html"))
    data = json.loads(json.dumps(page.to_json()))
    assert data["understood"] is True
    assert data["notices"][1]["exchanges"] == ["NYSE"]
    assert data["notices"][1]["created"] == "2023-11-21T14:42:00+00:00"


def test_layout_table_around_the_title_is_not_read_as_notices():
    html = ('<table><tr><td>Menu</td><td>System Availability | Exchange Availability</td></tr>'
            "<tr><td>Home</td><td>Contact us about orders on NYSE</td></tr></table>"
            '<table class="TableOutline"><tr><td class="CellTitle">Exchange Availability</td>'
            '</tr><tr class="odd"><td style="background-color:#cc3333"></td>'
            "<td><strong>LSE halted</strong></td><td>2024/01/02</td></tr></table>")
    page = parse_status_page(html)
    assert [(n.table, n.headline) for n in page.notices] == [("Exchange Availability",
                                                               "LSE halted")]


def test_row_with_empty_uncoloured_status_cell_is_unknown():
    html = ('<table><tr><td class="CellTitle">System Availability</td></tr>'
            "<tr><td></td><td><strong>TWS</strong> restarts</td><td>2024/01/02</td></tr></table>")
    [notice] = parse_status_page(html).notices
    assert notice.status is NoticeStatus.UNKNOWN and notice.colour is None


def test_unreadable_table_is_not_rescued_by_no_problems_text():
    # First cells carry text, so no row looks like a notice; "No problems" must not make it ok.
    html = ('<table class="TableOutline"><tr><td class="CellTitle">System Availability</td></tr>'
            "<tr><td>OK</td><td>No problems</td></tr></table>"
            '<table class="TableOutline"><tr><td class="CellTitle">Exchange Availability</td></tr>'
            "<tr><td>DOWN</td><td>NYSE halted</td></tr></table>")
    page = parse_status_page(html)
    assert not page.understood
