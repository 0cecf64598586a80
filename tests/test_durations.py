from __future__ import annotations

import pytest

from traderctl.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5), ("5s", 5), ("2m", 120), ("1h", 3600), ("1d", 86400), ("1h30m", 5400),
    (3, 3.0), (0.25, 0.25), ("1.5s", 1.5),
])
def test_parse(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "5x", "-1s", "s", -1, "1h-"])
def test_reject(bad) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(("seconds", "text"), [(0.5, "500ms"), (90, "1m30s"), (3600, "1h"),
                                               (0, "0ms"), (86400 + 5, "1d5s")])
def test_format(seconds, text) -> None:
    assert format_duration(seconds) == text
