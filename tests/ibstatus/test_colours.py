import pytest

from traderctl.ibstatus.colours import colour_from_style, normalise_colour, status_for_colour
from traderctl.ibstatus.model import NoticeStatus

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#cc3333", "#cc3333"),
        ("#CC3333", "#cc3333"),
        ("cc3333", "#cc3333"),
        (" #c33 ", "#cc3333"),
        ("#FC0", "#ffcc00"),
        ("rgb(204, 51, 51)", "#cc3333"),
        ("RGB(153,204,204)", "#99cccc"),
        ("rgba(102, 204, 51, 1)", "#66cc33"),
        ("rgb(300, 0, 0)", None),
        ("red", None),
        ("#12345", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_colour(raw, expected):
    assert normalise_colour(raw) == expected


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("background-color:#cc3333", "#cc3333"),
        ("BACKGROUND-COLOR : #FFCC00 ;", "#FFCC00"),
        ("width: 10px; background: #999999 url(x.png) no-repeat", "#999999"),
        ("background-color: rgb(102, 204, 51)", "rgb(102, 204, 51)"),
        ("background-color: teal", "teal"),
        ("color: #cc3333", None),
        (None, None),
    ],
)
def test_colour_from_style(style, expected):
    assert colour_from_style(style) == expected


def test_legend_and_unknown():
    assert status_for_colour("#cc3333") is NoticeStatus.PROBLEM
    assert status_for_colour("#ffcc00") is NoticeStatus.MAINTENANCE
    assert status_for_colour("#99cccc") is NoticeStatus.INFORMATION
    assert status_for_colour("#66cc33") is NoticeStatus.NORMAL
    assert status_for_colour("#999999") is NoticeStatus.RESOLVED
    assert status_for_colour("#123456") is NoticeStatus.UNKNOWN
    assert status_for_colour(None) is NoticeStatus.UNKNOWN
