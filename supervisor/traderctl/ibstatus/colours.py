"""The status page's colour legend and tolerant colour parsing.

IB marks each notice with an empty table cell coloured either with ``bgcolor="#cc3333"`` (older
markup) or ``style="background-color:#cc3333"`` (current markup). The legend comes from
third-party parsers, not from an IB document, so anything outside it is reported as unknown
rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from traderctl.ibstatus.model import NoticeStatus

LEGEND: Mapping[str, NoticeStatus] = {
    "#cc3333": NoticeStatus.PROBLEM,
    "#ffcc00": NoticeStatus.MAINTENANCE,
    "#99cccc": NoticeStatus.INFORMATION,
    "#66cc33": NoticeStatus.NORMAL,
    "#999999": NoticeStatus.RESOLVED,
}

_HEX = re.compile(r"#?\s*([0-9a-f]{6}|[0-9a-f]{3})", re.IGNORECASE)
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,[^)]*)?\)",
                  re.IGNORECASE)
_STYLE_BG = re.compile(r"background(?:-color)?\s*:\s*([^;]+)", re.IGNORECASE)


def normalise_colour(value: str | None) -> str | None:
    """Return ``#rrggbb`` (lower case) for a hex or ``rgb()`` colour, else ``None``.

    Accepts ``#CC3333``, ``cc3333``, ``#c33``, ``rgb(204, 51, 51)`` with any spacing; named
    colours and anything else are not guessed.
    """
    if not value:
        return None
    text = value.strip()
    rgb = _RGB.fullmatch(text)
    if rgb:
        parts = [int(p) for p in rgb.groups()]
        if any(p > 255 for p in parts):
            return None
        return "#" + "".join(f"{p:02x}" for p in parts)
    hexm = _HEX.fullmatch(text)
    if hexm:
        digits = hexm.group(1).lower()
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits
    return None


def colour_from_style(style: str | None) -> str | None:
    """The raw ``background``/``background-color`` value of an inline style, if any."""
    if not style:
        return None
    match = _STYLE_BG.search(style)
    if not match:
        return None
    value = match.group(1).strip()
    # ``background: #cc3333 url(x) no-repeat`` -> keep the colour token only.
    token = _RGB.search(value) or re.search(r"#\s*[0-9a-f]{3,6}\b", value, re.IGNORECASE)
    return token.group(0) if token else value


def status_for_colour(colour: str | None) -> NoticeStatus:
    """Legend lookup; a missing or unlisted colour is ``UNKNOWN``, never a guess."""
    if colour is None:
        return NoticeStatus.UNKNOWN
    return LEGEND.get(colour, NoticeStatus.UNKNOWN)
