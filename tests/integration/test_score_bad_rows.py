"""`mentiondesk score` on a file with bad rows in the middle: every other row is scored, the bad ones
are reported by line (invalid UTF-8, a CSV field over the csv module's 131,072-character limit)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli


def test_score_skips_bad_rows_by_line_and_scores_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        "id,text\nr1,Ужасный сервис верните деньги!\n".encode()
        + b"r2,bad bytes \xff\xfe in the middle\n"  # line 3
        + b"r3,"
        + b"x" * 200_000
        + b"\n"  # line 4
        + b"r4,Thank you so much the support team fixed everything!\n"
        + "r5,Заказ пришёл всё отлично спасибо\n".encode()
    )
    out = tmp_path / "out.jsonl"

    result = run_cli("score", "--input", str(source), "--output", str(out))

    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    assert set(rows) == {"r1", "r4", "r5"}
    assert "skipped 2" in result.stderr, result.stderr
    assert "skipped in.csv:3: invalid UTF-8" in result.stderr, result.stderr
    assert "skipped in.csv:4: unreadable CSV row (field larger than field limit" in result.stderr, (
        result.stderr
    )
