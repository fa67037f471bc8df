"""Evaluation figures on hand-built cases whose expected values are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from sentiment.model import LABELS
from sentiment.training.evaluate import (
    ReportRow,
    ScoredSet,
    compute_metrics,
    format_confusion,
    format_table,
    report_rows,
)
from sentiment.training.metrics import (
    confusion,
    decision_figures,
    expected_calibration_error,
    figures,
    label_ids,
    negativity_ece,
    reliability_bins,
)

NEG, NEU, POS = LABELS

# Four true negatives (two caught, one called neutral, one positive), one neutral called negative,
# one positive caught.
TRUE = [NEG, NEG, NEG, NEG, NEU, POS]
PRED = [NEG, NEG, NEU, POS, NEG, POS]


def test_confusion_rows_are_true_columns_predicted() -> None:
    assert confusion(TRUE, PRED) == [[2, 1, 1], [1, 0, 0], [0, 0, 1]]


def test_negative_precision_recall_f1_and_macro_f1() -> None:
    m = decision_figures(TRUE, PRED)
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6)
    assert m["negative_precision"] == pytest.approx(2 / 3)  # 3 called negative, 2 of them are
    assert m["negative_recall"] == pytest.approx(2 / 4)  # 4 negatives, 2 caught
    assert m["negative_f1"] == pytest.approx(4 / 7)  # 2pr/(p+r) = (2/3)/(7/6)
    # neutral: never right -> F1 0; positive: precision 1/2, recall 1 -> F1 2/3
    assert m["macro_f1"] == pytest.approx((4 / 7 + 0 + 2 / 3) / 3)


def test_decision_figures_agree_with_sklearn_on_random_labels() -> None:
    rng = np.random.default_rng(7)
    y_true = [LABELS[i] for i in rng.integers(0, 3, 300)]
    y_pred = [LABELS[i] for i in rng.integers(0, 3, 300)]
    m = decision_figures(y_true, y_pred)
    per_class = f1_score(y_true, y_pred, labels=list(LABELS), average=None, zero_division=0)
    assert m["macro_f1"] == pytest.approx(float(per_class.mean()))
    assert m["negative_f1"] == pytest.approx(float(per_class[0]))
    assert m["accuracy"] == pytest.approx(float(accuracy_score(y_true, y_pred)))
    assert compute_metrics(y_true, y_pred) == {
        "macro_f1": round(float(per_class.mean()), 4),
        "negative_f1": round(float(per_class[0]), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": 300,
    }


def test_a_class_never_predicted_has_zero_precision_not_an_error() -> None:
    m = decision_figures([NEG, NEU], [NEU, NEU])
    assert m["negative_precision"] == 0.0
    assert m["negative_recall"] == 0.0
    assert m["negative_f1"] == 0.0


def test_unknown_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="mixed"):
        label_ids([NEG, "mixed"])


def test_negativity_ece_is_zero_for_a_calibrated_forecast() -> None:
    # 0.25 on four mentions of which one is negative, 0.75 on four of which three are.
    negativity = np.array([0.25] * 4 + [0.75] * 4)
    is_negative = np.array([True, False, False, False, True, True, True, False])
    assert negativity_ece(negativity, is_negative) == pytest.approx(0.0)


def test_negativity_ece_of_an_over_confident_forecast() -> None:
    # 0.95 where 6 in 10 are negative, 0.05 where 4 in 10 are: each half is off by 0.35.
    negativity = np.array([0.95] * 10 + [0.05] * 10)
    is_negative = np.array([True] * 6 + [False] * 4 + [True] * 4 + [False] * 6)
    assert negativity_ece(negativity, is_negative) == pytest.approx(0.35)


def test_top_label_ece_weights_each_bin_by_its_share() -> None:
    # Four rows at confidence 0.9 with half right (off by 0.4), five at 0.6 with three right (off by 0).
    probs = np.array([[0.9, 0.05, 0.05]] * 4 + [[0.2, 0.6, 0.2]] * 5)
    y = label_ids([NEG, NEG, NEU, NEU, NEU, NEU, NEU, NEG, POS])  # 0.9 rows, then 0.6 rows
    assert expected_calibration_error(probs, y) == pytest.approx(4 / 9 * 0.4)


def test_reliability_bins_hold_mean_forecast_observed_rate_and_count() -> None:
    negativity = np.array([0.05, 0.15, 0.12, 0.95, 0.0, 0.1])
    is_negative = np.array([False, False, True, True, False, True])
    bins = reliability_bins(negativity, is_negative)
    # 0 joins the first bin; 0.1 is the first bin's upper edge, (0, 0.1] - so it is in bin 0 too.
    assert [(b["lo"], b["hi"], b["count"]) for b in bins] == [(0.0, 0.1, 3), (0.1, 0.2, 2), (0.9, 1.0, 1)]
    assert bins[0]["mean_negativity"] == pytest.approx(0.05)
    assert bins[0]["observed_negative_rate"] == pytest.approx(1 / 3)
    assert bins[1]["mean_negativity"] == pytest.approx(0.135)
    assert bins[1]["observed_negative_rate"] == pytest.approx(0.5)
    assert bins[2]["observed_negative_rate"] == pytest.approx(1.0)


def test_argmax_figures_show_what_the_decision_threshold_changes() -> None:
    # The first mention is decided negative at P(negative)=0.4 although neutral is more probable.
    probs = np.array([[0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7]])
    f = figures([NEG, NEU, POS], [NEG, NEU, POS], probs)
    assert (f["macro_f1"], f["negative_f1"]) == (1.0, 1.0)
    assert f["argmax_negative_f1"] == 0.0
    # argmax: neutral precision 1/2, recall 1 -> F1 2/3; positive F1 1
    assert f["argmax_macro_f1"] == pytest.approx((0 + 2 / 3 + 1) / 3, abs=1e-4)
    assert f["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert sum(b["count"] for b in f["reliability"]) == 3


def _scored(name: str, language: str, labels: list[str], predicted: list[str]) -> ScoredSet:
    probs = np.array([[0.7, 0.2, 0.1] if p == NEG else [0.1, 0.6, 0.3] for p in predicted])
    return ScoredSet(name, language, labels, predicted, probs)


def test_language_rows_pool_their_sets() -> None:
    scored = [
        _scored("a", "ru", [NEG, NEG, NEU], [NEG, NEU, NEU]),
        _scored("b", "en", [POS, NEG], [NEU, NEG]),
        _scored("c", "ru", [NEG, POS], [NEG, NEU]),
    ]
    rows = {row.name: row for row in report_rows(scored)}
    assert list(rows) == ["a", "b", "c", "all ru", "all en"]
    ru = rows["all ru"]
    assert (ru.kind, ru.language, ru.sets) == ("language", "ru", ("a", "c"))
    assert ru.figures["n"] == 5
    assert ru.figures["confusion"] == [[2, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert ru.figures["negative_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert ru.figures["accuracy"] == pytest.approx(3 / 5)
    assert rows["all en"].figures["confusion"] == rows["b"].figures["confusion"]


def test_table_and_confusion_render_every_row() -> None:
    rows = report_rows([_scored("a", "ru", [NEG, NEU], [NEG, NEG])])
    table = format_table(rows).splitlines()
    assert (
        table[0] == "| data set | language | macro-F1 | F1 negative | recall negative | accuracy | ECE | n |"
    )
    assert table[2].startswith("| a | ru | ") and table[2].endswith(" | 2 |")
    assert table[3].startswith("| all ru | ru | ")
    matrix = format_confusion(rows[0]).splitlines()
    assert matrix[-3:] == ["| negative | 1 | 0 | 0 |", "| neutral | 1 | 0 | 0 |", "| positive | 0 | 0 | 0 |"]


def test_report_row_json_keeps_sets_language_and_figures() -> None:
    row = ReportRow("x", "set", "en", ("x",), figures([NEG], [NEG], np.array([[0.9, 0.05, 0.05]])))
    doc = row.to_json()
    assert doc["language"] == "en" and doc["sets"] == ["x"] and doc["n"] == 1
    assert doc["negativity_ece"] == pytest.approx(0.1)
