"""Reading rows from JSONL or CSV files, reporting bad rows instead of stopping on them.

A bad row never stops the file: it goes to `on_skip(where, reason)` with its line number and reading
carries on. Bad rows are lines that are not valid UTF-8, not a JSON object (JSONL), or that the CSV
parser refuses (a field over the csv module's size limit, 131,072 characters by default).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
CSV_SUFFIXES = {".csv", ".tsv"}

# Bytes that are not UTF-8 survive CSV parsing as lone surrogates (`surrogateescape`); a row
# holding one is reported, not yielded.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class TabularFileError(ValueError):
    """The file as a whole cannot be read: missing, unknown format, or no `text` column."""


def _bad_utf8(exc: UnicodeDecodeError) -> str:
    return f"invalid UTF-8 (byte 0x{exc.object[exc.start]:02x} at column {exc.start + 1})"


def _decoded_lines(handle: Iterable[bytes]) -> Iterator[str]:
    for line in handle:
        yield line.decode("utf-8", errors="surrogateescape")


def read_rows(
    path: Path, on_skip: Callable[[str, str], None], required: str = "text"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each row; `on_skip(where, reason)` hears about unreadable lines."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TabularFileError(f"{path}: no such file")
    if suffix in JSONL_SUFFIXES:
        yield from _read_jsonl(path, on_skip)
    elif suffix in CSV_SUFFIXES:
        yield from _read_csv(path, on_skip, required, "\t" if suffix == ".tsv" else ",")
    else:
        raise TabularFileError(f"{path}: unknown format {suffix!r}; use .jsonl or .csv")


def _read_jsonl(path: Path, on_skip: Callable[[str, str], None]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:  # each line decoded on its own: one bad line costs one row
        for number, raw in enumerate(handle, start=1):
            where = f"{path.name}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                on_skip(where, _bad_utf8(exc))
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                on_skip(where, f"not JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                on_skip(where, "not a JSON object")
                continue
            yield number, row


def _read_csv(
    path: Path, on_skip: Callable[[str, str], None], required: str, delimiter: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        reader = csv.DictReader(_decoded_lines(handle), delimiter=delimiter)
        if not reader.fieldnames or required not in reader.fieldnames:
            raise TabularFileError(f"{path}: no `{required}` column (columns: {reader.fieldnames})")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader drops the rest of the offending line and starts the next record on the
                # next line (it resets its state on every call), so reading goes on from there.
                # (DictReader's own line_num is only updated on success: ask the csv reader)
                on_skip(f"{path.name}:{reader.reader.line_num}", f"unreadable CSV row ({exc})")
                continue
            where = f"{path.name}:{reader.line_num}"
            if any(_UNDECODABLE.search(v) for v in _values(row)):
                on_skip(where, "invalid UTF-8")
                continue
            yield reader.line_num, dict(row)


def _values(row: dict[str | Any, Any]) -> Iterator[str]:
    for key, value in row.items():
        if isinstance(key, str):
            yield key
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):  # extra fields beyond the header land under the `None` key
            yield from (v for v in value if isinstance(v, str))
