"""The evaluation report: every data set's test part, and each language's sets pooled.

Only test parts are scored (official test split or the fixed hold-out `load_benchmarks` gives), so the
figures never include rows the head was trained on.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sentiment.model import LABELS, NegativityModel
from sentiment.training.datasets import load_benchmarks
from sentiment.training.metrics import Figures, FloatArray, decision_figures, figures

Metrics = dict[str, float | int]
RowKind = Literal["set", "language"]


def compute_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> Metrics:
    """macro-F1, negative-class F1, accuracy (rounded to 4 decimals) and n of a set of decisions."""
    m = decision_figures(y_true, y_pred)
    return {
        "macro_f1": round(m["macro_f1"], 4),
        "negative_f1": round(m["negative_f1"], 4),
        "accuracy": round(m["accuracy"], 4),
        "n": m["n"],
    }


@dataclass(frozen=True)
class ScoredSet:
    """One data set's test part with the model's decisions and probability rows."""

    name: str
    language: str
    labels: list[str]
    predicted: list[str]
    probs: FloatArray  # (n, 3): negative, neutral, positive


@dataclass(frozen=True)
class ReportRow:
    """The figures of one data set, or of one language's data sets pooled (named "all <language>")."""

    name: str
    kind: RowKind
    language: str
    sets: tuple[str, ...]
    figures: Figures

    def to_json(self) -> dict[str, Any]:
        return {"language": self.language, "sets": list(self.sets), **self.figures}


def language_row_name(language: str) -> str:
    return f"all {language}"


def score_sets(
    model: NegativityModel, data_dir: Path, names: Sequence[str] | None = None, chunk: int = 256
) -> list[ScoredSet]:
    """Score every chosen data set's test part, `chunk` texts per model call (progress on stderr)."""
    from tqdm import tqdm

    scored: list[ScoredSet] = []
    for bench in load_benchmarks(Path(data_dir), names):
        texts = bench.test.texts
        if not texts:
            print(f"eval {bench.name}: empty test part, skipped", file=sys.stderr)
            continue
        predicted: list[str] = []
        probs: list[list[float]] = []
        with tqdm(total=len(texts), desc=f"eval {bench.name}", unit="text", file=sys.stderr) as bar:
            for start in range(0, len(texts), chunk):
                scores = model.score(texts[start : start + chunk])
                predicted.extend(s.label for s in scores)
                probs.extend([s.probs[label] for label in LABELS] for s in scores)
                bar.update(len(scores))
        scored.append(
            ScoredSet(
                bench.name,
                bench.test.language,
                list(bench.test.labels),
                predicted,
                np.asarray(probs, dtype=np.float64).reshape(-1, len(LABELS)),
            )
        )
    return scored


def report_rows(scored: Sequence[ScoredSet]) -> list[ReportRow]:
    """One row per set, then one per language (its sets' rows pooled), languages in order of appearance."""
    rows = [
        ReportRow(s.name, "set", s.language, (s.name,), figures(s.labels, s.predicted, s.probs))
        for s in scored
    ]
    for language in dict.fromkeys(s.language for s in scored):
        members = [s for s in scored if s.language == language]
        rows.append(
            ReportRow(
                language_row_name(language),
                "language",
                language,
                tuple(s.name for s in members),
                figures(
                    [lab for s in members for lab in s.labels],
                    [lab for s in members for lab in s.predicted],
                    np.concatenate([s.probs for s in members]),
                ),
            )
        )
    return rows


def evaluate(
    model: NegativityModel, data_dir: Path, names: Sequence[str] | None = None, chunk: int = 256
) -> list[ReportRow]:
    """The report of `model` on the chosen data sets' test parts: per set, then per language."""
    return report_rows(score_sets(model, data_dir, names, chunk))


def format_table(report: Sequence[ReportRow]) -> str:
    """A markdown table of a report; ECE is that of negativity read as P(negative)."""
    lines = [
        "| data set | language | macro-F1 | F1 negative | recall negative | accuracy | ECE | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report:
        f = row.figures
        lines.append(
            f"| {row.name} | {row.language} | {f['macro_f1']:.3f} | {f['negative_f1']:.3f} "
            f"| {f['negative_recall']:.3f} | {f['accuracy']:.3f} | {f['negativity_ece']:.3f} | {f['n']} |"
        )
    return "\n".join(lines)


def format_confusion(row: ReportRow) -> str:
    """A row's confusion matrix as a markdown table (rows true, columns predicted)."""
    lines = [
        f"{row.name} (n={row.figures['n']}): rows true, columns predicted",
        "| true \\ predicted | " + " | ".join(LABELS) + " |",
        "|---" * (len(LABELS) + 1) + "|",
    ]
    for label, counts in zip(LABELS, row.figures["confusion"], strict=True):
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return "\n".join(lines)


def report_document(
    report: Sequence[ReportRow],
    model_version: str,
    measured_at: str,
    data_dir: Path,
    charts: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """The JSON form of a report (report.json); `charts` names each row's reliability PNG."""

    def entry(row: ReportRow) -> dict[str, Any]:
        chart = (charts or {}).get(row.name)
        return {**row.to_json(), "reliability_png": chart.name if chart else None}

    return {
        "model_version": model_version,
        "measured_at": measured_at,
        "data_dir": str(data_dir),
        "sets": {row.name: entry(row) for row in report if row.kind == "set"},
        "languages": {row.name: entry(row) for row in report if row.kind == "language"},
    }
