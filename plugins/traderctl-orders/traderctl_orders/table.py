"""Rows as a rich table on stdout (the people's format; --json is the scripts')."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def build_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    from rich.console import Console

    Console(soft_wrap=True).print(build_table(rows, columns))
