"""Evaluation figures from labels and probabilities alone (no model): classification and calibration.

Labels are negative/neutral/positive; probability rows are (negative, neutral, positive). The decision
labels may differ from the argmax of the probabilities (a decision threshold on negativity), so both
are measured: the `argmax_*` figures show what the threshold changes.

Calibration uses 10 equal-width bins, each (lo, hi] with 0 counted in the first bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import numpy.typing as npt

from sentiment.model import LABELS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BINS = 10
DIGITS = 4  # figures in reports are rounded to this many decimals


class ReliabilityBin(TypedDict):
    """One non-empty bin of the negativity reliability curve."""

    lo: float
    hi: float
    mean_negativity: float  # mean predicted P(negative) of the bin's rows
    observed_negative_rate: float  # share of the bin's rows that are truly negative
    count: int


class DecisionFigures(TypedDict):
    """Figures of a set of decisions (unrounded)."""

    n: int
    accuracy: float
    macro_f1: float
    negative_f1: float
    negative_precision: float
    negative_recall: float
    confusion: list[list[int]]  # rows true, columns predicted, LABELS order


class Figures(DecisionFigures):
    """Decision figures at the served thresholds, plus argmax figures and calibration."""

    argmax_macro_f1: float
    argmax_negative_f1: float
    confidence_ece: float  # top-label confidence vs. argmax correct
    negativity_ece: float  # P(negative) vs. is-negative
    reliability: list[ReliabilityBin]


def label_ids(labels: Sequence[str]) -> IntArray:
    """negative/neutral/positive -> 0/1/2 (ValueError on anything else)."""
    index: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
    unknown = sorted({lab for lab in labels if lab not in index})
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected {list(LABELS)}")
    return np.array([index[lab] for lab in labels], dtype=np.int64)


def _bin_index(values: FloatArray, bins: int) -> IntArray:
    edges = np.linspace(0.0, 1.0, bins + 1)
    # searchsorted(left) - 1 puts v in bin i when edges[i] < v <= edges[i + 1]; 0 goes to bin 0.
    idx = np.searchsorted(edges, values, side="left") - 1
    return np.clip(idx, 0, bins - 1).astype(np.int64)


def calibration_error(forecast: FloatArray, outcome: BoolArray, bins: int = BINS) -> float:
    """Binned ECE: sum over bins of (share of rows) * |mean forecast - observed frequency|."""
    forecast = np.asarray(forecast, dtype=np.float64)
    outcome = np.asarray(outcome, dtype=bool)
    if forecast.size == 0:
        return 0.0
    idx = _bin_index(forecast, bins)
    ece = 0.0
    for b in np.unique(idx):
        sel = idx == b
        ece += sel.mean() * abs(forecast[sel].mean() - outcome[sel].mean())
    return float(ece)


def expected_calibration_error(probs: FloatArray, y: IntArray, bins: int = BINS) -> float:
    """ECE of the top-label confidence: max probability vs. whether the argmax is the true class."""
    probs = np.asarray(probs, dtype=np.float64)
    return calibration_error(probs.max(axis=1), probs.argmax(axis=1) == np.asarray(y), bins)


def negativity_ece(negativity: FloatArray, is_negative: BoolArray, bins: int = BINS) -> float:
    """ECE of P(negative) as a binary forecast: 0.8 should mean about 80% of such mentions are negative."""
    return calibration_error(negativity, is_negative, bins)


def reliability_bins(
    negativity: FloatArray, is_negative: BoolArray, bins: int = BINS
) -> list[ReliabilityBin]:
    """The reliability curve of negativity: one point per non-empty bin, in bin order."""
    negativity = np.asarray(negativity, dtype=np.float64)
    is_negative = np.asarray(is_negative, dtype=bool)
    idx = _bin_index(negativity, bins)
    out: list[ReliabilityBin] = []
    for b in range(bins):
        sel = idx == b
        count = int(sel.sum())
        if count:
            out.append(
                ReliabilityBin(
                    lo=b / bins,
                    hi=(b + 1) / bins,
                    mean_negativity=float(negativity[sel].mean()),
                    observed_negative_rate=float(is_negative[sel].mean()),
                    count=count,
                )
            )
    return out


def confusion(y_true: Sequence[str], y_pred: Sequence[str]) -> list[list[int]]:
    """Counts with rows = true label and columns = predicted label, both in LABELS order."""
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(matrix, (label_ids(y_true), label_ids(y_pred)), 1)
    return [[int(v) for v in row] for row in matrix]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def class_scores(matrix: Sequence[Sequence[int]]) -> list[tuple[float, float, float]]:
    """(precision, recall, F1) per class of a confusion matrix; 0 where undefined."""
    m = np.asarray(matrix, dtype=np.float64)
    out: list[tuple[float, float, float]] = []
    for k in range(m.shape[0]):
        hits, predicted, actual = m[k, k], m[:, k].sum(), m[k, :].sum()
        precision = float(hits / predicted) if predicted else 0.0
        recall = float(hits / actual) if actual else 0.0
        out.append((precision, recall, _f1(precision, recall)))
    return out


def decision_figures(y_true: Sequence[str], y_pred: Sequence[str]) -> DecisionFigures:
    """n, accuracy, macro-F1 and the negative class's F1, precision and recall (unrounded)."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels for {len(y_pred)} predictions")
    matrix = confusion(y_true, y_pred)
    scores = class_scores(matrix)
    n = len(y_true)
    return DecisionFigures(
        n=n,
        accuracy=float(np.trace(np.asarray(matrix)) / n) if n else 0.0,
        macro_f1=float(np.mean([f1 for _, _, f1 in scores])),
        negative_f1=scores[0][2],
        negative_precision=scores[0][0],
        negative_recall=scores[0][1],
        confusion=matrix,
    )


def figures(y_true: Sequence[str], y_pred: Sequence[str], probs: FloatArray, bins: int = BINS) -> Figures:
    """Every figure of one evaluated set (rounded to DIGITS for reports)."""
    probs = np.asarray(probs, dtype=np.float64).reshape(-1, len(LABELS))
    if len(probs) != len(y_true):
        raise ValueError(f"{len(y_true)} true labels for {len(probs)} probability rows")
    y = label_ids(y_true)
    decided = decision_figures(y_true, y_pred)
    argmax = decision_figures(y_true, [LABELS[i] for i in probs.argmax(axis=1)])
    is_negative = y == 0
    r = DIGITS
    return Figures(
        n=decided["n"],
        accuracy=round(decided["accuracy"], r),
        macro_f1=round(decided["macro_f1"], r),
        negative_f1=round(decided["negative_f1"], r),
        negative_precision=round(decided["negative_precision"], r),
        negative_recall=round(decided["negative_recall"], r),
        argmax_macro_f1=round(argmax["macro_f1"], r),
        argmax_negative_f1=round(argmax["negative_f1"], r),
        confidence_ece=round(expected_calibration_error(probs, y, bins), r),
        negativity_ece=round(negativity_ece(probs[:, 0], is_negative, bins), r),
        confusion=decided["confusion"],
        reliability=[
            ReliabilityBin(
                lo=b["lo"],
                hi=b["hi"],
                mean_negativity=round(b["mean_negativity"], r),
                observed_negative_rate=round(b["observed_negative_rate"], r),
                count=b["count"],
            )
            for b in reliability_bins(probs[:, 0], is_negative, bins)
        ],
    )
