"""core.tabular: one bad row (invalid UTF-8, a CSV field over the csv module's limit) is reported by
line and skipped; every other row is read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.tabular import read_rows
from ingest.replay import ReplayStats, read_mentions

HUGE = "x" * (csv.field_size_limit() + 10)


def _read(path: Path) -> tuple[list[tuple[int, str]], list[str]]:
    skipped: list[str] = []
    rows = [(n, str(r["text"])) for n, r in read_rows(path, lambda w, why: skipped.append(f"{w}: {why}"))]
    return rows, skipped


def test_jsonl_line_with_invalid_utf8_is_skipped_by_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    lines = [json.dumps({"text": t}, ensure_ascii=False).encode() for t in ("первый", "второй", "третий")]
    lines.insert(1, b'{"text": "bad \xff\xfe here"}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows, skipped = _read(path)
    assert rows == [(1, "первый"), (3, "второй"), (4, "третий")]
    assert len(skipped) == 1 and skipped[0].startswith("m.jsonl:2: invalid UTF-8 (byte 0xff")


@pytest.mark.parametrize("quoted", [False, True])
def test_csv_row_with_a_huge_field_or_invalid_utf8_is_skipped_by_line(tmp_path: Path, quoted: bool) -> None:
    path = tmp_path / "m.csv"
    huge = f'"{HUGE}"' if quoted else HUGE
    path.write_bytes(
        b"id,text\n"
        b"a,\xd0\xbf\xd0\xb5\xd1\x80\xd0\xb2\xd1\x8b\xd0\xb9\n"  # первый
        + f"b,{huge}\n".encode()
        + b"c,bad \xff here\n"
        b'd,"two\nlines"\n'
        b"e,last\n"
    )
    rows, skipped = _read(path)
    assert rows == [(2, "первый"), (6, "two\nlines"), (7, "last")]
    assert len(skipped) == 2
    assert skipped[0].startswith("m.csv:3: unreadable CSV row (field larger than field limit")
    assert skipped[1] == "m.csv:4: invalid UTF-8"


def test_replay_reads_around_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,text\np1,one\np2," + HUGE.encode() + b"\np3,bad \xc3\np4,four\n")
    stats = ReplayStats()
    mentions = list(read_mentions(path, stats=stats))
    assert [m.external_id for m in mentions] == ["p1", "p4"]
    assert stats.skipped == 2
    assert stats.errors[0].startswith("m.csv:3: ") and stats.errors[1] == "m.csv:4: invalid UTF-8"
