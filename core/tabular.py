"""Reading rows from JSONL or CSV files, reporting bad rows instead of stopping on them."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
CSV_SUFFIXES = {".csv", ".tsv"}


class TabularFileError(ValueError):
    """The file as a whole cannot be read: missing, unknown format, or no `text` column."""


def read_rows(
    path: Path, on_skip: Callable[[str, str], None], required: str = "text"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each row; `on_skip(where, reason)` hears about unreadable lines."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TabularFileError(f"{path}: no such file")
    if suffix in JSONL_SUFFIXES:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    on_skip(f"{path.name}:{number}", f"not JSON ({exc.msg})")
                    continue
                if not isinstance(row, dict):
                    on_skip(f"{path.name}:{number}", "not a JSON object")
                    continue
                yield number, row
    elif suffix in CSV_SUFFIXES:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            if not reader.fieldnames or required not in reader.fieldnames:
                raise TabularFileError(f"{path}: no `{required}` column (columns: {reader.fieldnames})")
            for row in reader:
                yield reader.line_num, dict(row)
    else:
        raise TabularFileError(f"{path}: unknown format {suffix!r}; use .jsonl or .csv")
