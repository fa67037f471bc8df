"""The retrain's switch rule: a validation figure that falls blocks the switch only when it falls by
more than the tolerance and by more than chance (McNemar on the rows whose answer changed)."""

from __future__ import annotations

from typing import Any

from sentiment.training.retrain import SIGNIFICANCE_Z, falls, paired_change


def test_paired_change_counts_the_answers_lost_and_gained() -> None:
    truth = [True] * 6
    old = [True, True, True, False, False, True]
    new = [False, False, True, True, False, True]

    assert paired_change(truth, old, new) == {"lost": 2, "gained": 1, "z": round(1 / 3**0.5, 3)}
    assert paired_change(truth, old, old) == {"lost": 0, "gained": 0, "z": 0.0}


def _row(change: float, lost: int, gained: int) -> dict[str, Any]:
    paired = paired_change(
        [True] * (lost + gained), [True] * lost + [False] * gained, [False] * lost + [True] * gained
    )
    return {
        "change": {"macro_f1": change, "negative_f1": 0.0},
        "paired": {"macro_f1": paired, "negative_f1": {"lost": 0, "gained": 0, "z": 0.0}},
    }


def test_a_fall_counts_only_past_the_tolerance_and_past_chance() -> None:
    # 14 answers lost, 3 gained: z = 11 / sqrt(17) = 2.67, beyond chance
    assert falls(_row(-0.11, 14, 3), tolerance=0.01) == ["macro_f1"]
    # the same answers, a fall within the tolerance
    assert falls(_row(-0.005, 14, 3), tolerance=0.01) == []
    # a large fall on a small set from a few changed answers: 3 lost, 1 gained, z = 1.0
    assert falls(_row(-0.15, 3, 1), tolerance=0.01) == []
    assert (3 - 1) / (3 + 1) ** 0.5 < SIGNIFICANCE_Z < (14 - 3) / 17**0.5
