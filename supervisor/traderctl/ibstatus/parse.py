"""Turn the status page HTML into notices (beautifulsoup4 with the stdlib ``html.parser``).

Structure (reference section F): a ``table.TableOutline`` whose title cell says "System
Availability" or "Exchange Availability", a header row (Stat | Message | Created/Updated) and one
row per notice: an empty cell coloured with ``bgcolor=`` or ``style="background-color:..."``, a
message cell (``<strong>headline</strong><br>details``) and a dates cell (created ``<br>``
updated, ``YYYY/MM/DD`` maybe with a time). Every row counts, not only the first.

Dates on the page carry no zone; IB is a US (Greenwich, CT) firm and its other public times are
US/Eastern, so they are read as America/New_York and converted to UTC here, at the edge.
A date without a time becomes midnight Eastern of that day.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from traderctl.ibstatus.aliases import AliasTable, shipped_table
from traderctl.ibstatus.colours import colour_from_style, normalise_colour, status_for_colour
from traderctl.ibstatus.model import Notice, NoticeStatus, StatusPage
from traderctl.logs import get_logger

if TYPE_CHECKING:
    from bs4 import Tag

log = get_logger(__name__)

PAGE_TIMEZONE = "America/New_York"
TABLE_TITLES = ("System Availability", "Exchange Availability")
NOT_AVAILABLE_TEXT = "System status information currently not available"
NO_PROBLEMS_TEXT = "No problems"

_TITLE_RE = re.compile("|".join(re.escape(t) for t in TABLE_TITLES), re.IGNORECASE)
_DATE_RE = re.compile(
    r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_HEADER_WORDS = {"stat", "status", "message", "created/updated", "created", "updated"}


def parse_status_page(html: str, table: AliasTable | None = None,
                      page_tz: str = PAGE_TIMEZONE) -> StatusPage:
    """Parse the page; notices are attributed with ``table`` (default: the shipped aliases).

    ``understood`` is false when IB says status is unavailable, or no status table with at
    least one notice row is found (and the page does not simply say "No problems").
    """
    from bs4 import BeautifulSoup  # lazy: heavy import, only when parsing

    table = table or shipped_table()
    soup = BeautifulSoup(html or "", "html.parser")
    text = " ".join(soup.get_text(" ").split())
    if NOT_AVAILABLE_TEXT.casefold() in text.casefold():
        return StatusPage((), False, "IB says system status information is currently not available")

    tz = ZoneInfo(page_tz)
    outlines = _status_tables(soup)
    notices = [n for outline in outlines for n in _table_notices(outline, table, tz)]
    if notices:
        return StatusPage(tuple(notices), True, f"{len(notices)} notice(s) parsed")
    if outlines:
        # A table we could not read may hide an outage: do not fall back to "No problems".
        return StatusPage((), False, "status table found but no notice rows recognised")
    if not text:
        return StatusPage((), False, "empty page")
    if NO_PROBLEMS_TEXT.casefold() in text.casefold() and _TITLE_RE.search(text):
        return StatusPage((), True, "no status table; the page says no problems")
    return StatusPage((), False, "no 'System Availability' or 'Exchange Availability' table found")


def _status_tables(soup: Any) -> list[Tag]:
    """Innermost tables holding a status title, plus any ``table.TableOutline``; each once."""
    found: list[Tag] = []
    for cell in soup.find_all(["td", "th"]):
        if not _TITLE_RE.search(cell.get_text(" ")):
            continue
        outline = cell.find_parent("table")
        if outline is not None and _own_cells(cell) and all(outline is not t for t in found):
            found.append(outline)
    for outline in soup.find_all("table", class_="TableOutline"):
        if all(outline is not t for t in found):
            found.append(outline)
    return found


def _own_cells(cell: Tag) -> bool:
    """True for a title cell that is not a layout cell wrapping a whole nested table."""
    return cell.find("table") is None


def _rows(outline: Tag) -> list[Tag]:
    """Rows of this table only, not of tables nested inside it."""
    return [tr for tr in outline.find_all("tr") if tr.find_parent("table") is outline]


def _table_notices(outline: Tag, table: AliasTable, tz: ZoneInfo) -> list[Notice]:
    """One notice per data row; title rows switch the section (one table may hold both)."""
    notices: list[Notice] = []
    section = _section_before(outline)
    for tr in _rows(outline):
        cells = [td for td in tr.find_all(["td", "th"]) if td.find_parent("tr") is tr]
        if not cells:
            continue
        joined = " ".join(c.get_text(" ") for c in cells)
        title = _TITLE_RE.search(joined)
        if len(cells) == 1 or "CellTitle" in (cells[0].get("class") or []):
            if title:
                section = _canonical_title(title.group(0))
            continue
        if _is_header(cells) or len(cells) < 2 or not _is_status_cell(cells[0]):
            continue
        notice = _row_notice(cells, section, table, tz)
        if notice is not None:
            notices.append(notice)
    return notices


def _section_before(outline: Tag) -> str:
    """The title a table without its own title row sits under (a heading before it)."""
    previous = outline.find_previous(string=_TITLE_RE)
    match = _TITLE_RE.search(str(previous)) if previous is not None else None
    return _canonical_title(match.group(0)) if match else TABLE_TITLES[0]


def _canonical_title(found: str) -> str:
    return next(t for t in TABLE_TITLES if t.casefold() == found.casefold())


def _is_header(cells: list[Tag]) -> bool:
    classes = {c for cell in cells for c in (cell.get("class") or [])}
    if "columnheader" in classes:
        return True
    words = {" ".join(c.get_text(" ").split()).casefold() for c in cells}
    return bool(words) and words <= _HEADER_WORDS


def _is_status_cell(cell: Tag) -> bool:
    """The status "icon" is an empty (coloured) cell; a first cell with text is layout."""
    return not cell.get_text(" ").strip()


def _row_notice(cells: list[Tag], section: str, table: AliasTable, tz: ZoneInfo) -> Notice | None:
    raw = _raw_colour(cells[0])
    colour = normalise_colour(raw)
    headline, details = _message(cells[1])
    if raw is None and not headline and not details:
        return None  # spacer row
    status = status_for_colour(colour)
    if status is NoticeStatus.UNKNOWN:
        log.info("ib_status_unknown_colour", colour=raw, headline=headline)
    dates = _dates(cells[2], tz) if len(cells) > 2 else []
    match = table.find(f"{headline}\n{details}")
    return Notice(
        table=section,
        status=status,
        colour=colour or raw,
        headline=headline,
        details=details,
        created=dates[0] if dates else None,
        updated=dates[1] if len(dates) > 1 else None,
        exchanges=match.exchanges,
        systems=match.systems,
    )


def _raw_colour(cell: Tag) -> str | None:
    """The status cell's colour as written: ``style`` background wins over ``bgcolor``."""
    style = cell.get("style")
    from_style = colour_from_style(style if isinstance(style, str) else None)
    if from_style:
        return from_style
    bgcolor = cell.get("bgcolor")
    return str(bgcolor).strip() if bgcolor else None


def _message(cell: Tag) -> tuple[str, str]:
    """Headline (the ``<strong>``/``<b>``, else the first line) and the remaining details."""
    strong = cell.find(["strong", "b"])
    if strong is not None:
        headline = " ".join(strong.get_text(" ").split())
        strong.extract()
        lines = [" ".join(ln.split()) for ln in cell.get_text("\n").splitlines()]
        return headline, " ".join(ln for ln in lines if ln)
    lines = [" ".join(ln.split()) for ln in cell.get_text("\n").splitlines()]
    lines = [ln for ln in lines if ln]
    return (lines[0], " ".join(lines[1:])) if lines else ("", "")


def _dates(cell: Tag, tz: ZoneInfo) -> list[datetime]:
    """Every ``YYYY/MM/DD [HH:MM[:SS] [AM|PM]]`` in the cell, as UTC, skipping impossible ones."""
    found: list[datetime] = []
    for m in _DATE_RE.finditer(cell.get_text(" ")):
        year, month, day, hour, minute, second, ampm = m.groups()
        h = int(hour) if hour else 0
        if ampm:
            h = h % 12 + (12 if ampm.lower() == "pm" else 0)
        try:
            local = datetime(int(year), int(month), int(day), h,
                             int(minute or 0), int(second or 0), tzinfo=tz)
        except ValueError:
            log.info("ib_status_bad_date", text=m.group(0))
            continue
        found.append(local.astimezone(UTC))
    return found
