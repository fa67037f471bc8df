"""Figures per data set: macro-F1, negative-class F1, accuracy, n (on test parts only)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from sentiment.model import LABELS, NegativityModel
from sentiment.training.datasets import load_benchmarks

Metrics = dict[str, float | int]


def compute_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> Metrics:
    from sklearn.metrics import accuracy_score, f1_score

    labels = list(LABELS)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": round(float(per_class.mean()), 4),
        "negative_f1": round(float(per_class[0]), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": len(y_true),
    }


def evaluate(
    model: NegativityModel, data_dir: Path, names: Sequence[str] | None = None, chunk: int = 256
) -> dict[str, Metrics]:
    """Score every data set's test part (official test split or fixed hold-out) with `model`."""
    from tqdm import tqdm

    report: dict[str, Metrics] = {}
    for bench in load_benchmarks(Path(data_dir), names):
        texts = bench.test.texts
        predicted: list[str] = []
        with tqdm(total=len(texts), desc=f"eval {bench.name}", unit="text", file=sys.stderr) as bar:
            for start in range(0, len(texts), chunk):
                scores = model.score(texts[start : start + chunk])
                predicted.extend(s.label for s in scores)
                bar.update(len(scores))
        report[bench.name] = compute_metrics(bench.test.labels, predicted)
    return report


def format_table(report: dict[str, Metrics]) -> str:
    """A markdown table of a report."""
    lines = ["| data set (test part) | macro-F1 | F1 negative | accuracy | n |", "|---|---|---|---|---|"]
    for name, m in report.items():
        lines.append(
            f"| {name} | {m['macro_f1']:.3f} | {m['negative_f1']:.3f} | {m['accuracy']:.3f} | {m['n']} |"
        )
    return "\n".join(lines)
