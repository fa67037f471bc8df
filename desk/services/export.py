"""Export cells that are safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets, so a customer's mention text could run `=HYPERLINK(...)` or
worse on the desk manager's machine. Following OWASP's CSV injection guidance such a cell gets a
leading single quote, which spreadsheets show as text. Numbers stay numbers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value as a CSV cell: strings that would be formulas are quoted, the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Mapping[str, object]) -> dict[str, object]:
    return {key: safe_cell(value) for key, value in row.items()}


def local_times(row: Mapping[str, object], zone: ZoneInfo) -> dict[str, object]:
    """Datetimes of an exported row in the desk's zone, with their offset (ISO 8601, e.g.
    2026-12-31T02:30:00+03:00): the same instant as the stored UTC, read as the desk reads it."""
    return {
        key: value.astimezone(zone) if isinstance(value, datetime) and value.tzinfo is not None else value
        for key, value in row.items()
    }
