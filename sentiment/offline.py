"""Offline batch scoring of a JSONL/CSV file (`mentiondesk score`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from core.tabular import read_rows
from sentiment.language import detect_language
from sentiment.model import NegativityModel

log = logging.getLogger(__name__)


@dataclass
class ScoreFileStats:
    scored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < 100:
            self.errors.append(f"{where}: {reason}")
        log.warning("score skipped %s: %s", where, reason)


def _batches(rows: Iterator[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for number, row in rows:
        text = str(row.get("text") or "")
        batch.append((str(row.get("id") or number), text))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _count_rows(path: Path) -> int | None:
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    return None


def _write(
    out: TextIO, model: NegativityModel, batch: Sequence[tuple[str, str]], stats: ScoreFileStats
) -> None:
    readable = [(row_id, text) for row_id, text in batch if text.strip()]
    for row_id, text in batch:
        if not text.strip():
            stats.skip(f"id {row_id}", "empty `text`")
    scores = model.score([text for _, text in readable])
    for (row_id, text), score in zip(readable, scores, strict=True):
        record = {
            "id": row_id,
            "label": score.label,
            "negativity": round(score.negativity, 6),
            "probs": {k: round(v, 6) for k, v in score.probs.items()},
            "lang": detect_language(text),
            "model_version": model.version,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        stats.scored += 1


def score_file(
    model: NegativityModel,
    input_path: Path,
    output_path: Path,
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> ScoreFileStats:
    """Score every row's `text`; write JSONL with id, label, negativity, probs, lang."""
    stats = ScoreFileStats()
    total = _count_rows(input_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        output_path.open("w", encoding="utf-8") as out,
        tqdm(total=total, unit="text", disable=not progress, desc="scoring") as bar,
    ):
        for batch in _batches(read_rows(input_path, stats.skip), batch_size):
            _write(out, model, batch, stats)
            bar.update(len(batch))
    return stats
