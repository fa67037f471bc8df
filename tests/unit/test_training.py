"""Training helpers: the data loaders against the shared sets, the fixed hold-out, the temperature."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.model import softmax
from sentiment.training.calibration import fit_temperature
from sentiment.training.datasets import (
    load_airline,
    load_benchmarks,
    load_opensentimentcorpus,
    load_rusentitweet,
    load_tweeteval,
    subsample_indices,
)
from sentiment.training.evaluate import compute_metrics
from tests.support import DATA_DIR, LABELLED_FILES, needs_data

DATA = DATA_DIR
labelled_data = needs_data(*LABELLED_FILES)


@labelled_data
def test_loaders_read_every_row_with_a_real_csv_reader() -> None:
    # Counts from each folder's SOURCE.txt, minus the dropped classes (skip, speech; mixed).
    train, test = load_rusentitweet(DATA, "train"), load_rusentitweet(DATA, "test")
    assert len(train) + len(test) == 5341 + 3298 + 2414
    osc = load_opensentimentcorpus(DATA)
    assert osc.counts() == {"neutral": 3062, "negative": 1793, "positive": 669}
    assert load_tweeteval(DATA).counts() == {"negative": 312, "neutral": 869, "positive": 819}
    airline = load_airline(DATA)
    assert airline.counts() == {"negative": 9178, "neutral": 3099, "positive": 2363}
    assert any("\n" in t or "\r" in t for t in train.texts + test.texts)  # quoted line breaks survive
    assert {train.language, osc.language} == {"ru"}
    assert airline.language == "en"


@labelled_data
def test_holdout_is_fixed_disjoint_and_stratified() -> None:
    first = {b.name: b for b in load_benchmarks(DATA)}
    again = {b.name: b for b in load_benchmarks(DATA, ["airline"])}
    air = first["airline"]
    assert air.test.texts == again["airline"].test.texts
    assert len(air.test) == pytest.approx(0.2 * (len(air.train) + len(air.test)), abs=3)
    assert abs(air.test.counts()["negative"] / len(air.test) - 9178 / 14640) < 0.01
    assert first["rusentitweet"].test.split == "test"  # the official split, not a hold-out
    rows = subsample_indices(air.train, 4000)
    assert len(rows) == pytest.approx(4000, abs=3)
    assert rows == subsample_indices(air.train, 4000)


def test_temperature_recovers_the_scale() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 3)) * 2
    y = np.array([rng.choice(3, p=p) for p in softmax(logits)])
    assert fit_temperature(logits * 3, y) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(logits / 2, y) == pytest.approx(0.5, rel=0.1)


def test_metrics() -> None:
    m = compute_metrics(
        ["negative", "neutral", "positive", "negative"], ["negative", "neutral", "neutral", "positive"]
    )
    assert m["n"] == 4
    assert m["accuracy"] == 0.5
    assert m["negative_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_threshold_is_the_lowest_cut_off_about_as_good_as_the_best() -> None:
    from sentiment.training.finetune import best_threshold

    rng = np.random.default_rng(3)
    is_negative = rng.random(5000) < 0.3
    negativity = np.clip(np.where(is_negative, 0.65, 0.3) + rng.normal(0, 0.15, 5000), 0, 1)
    strict = best_threshold(negativity, is_negative, slack=0.0)
    lenient = best_threshold(negativity, is_negative, slack=0.01)
    assert 0.35 < strict < 0.6
    assert lenient < strict, "with slack, a lower cut-off that flags more complaints wins"

    def recall(t: float) -> float:
        return float((negativity[is_negative] >= t).mean())

    assert recall(lenient) > recall(strict)


def test_calibration_gives_a_threshold_per_language_and_a_fallback() -> None:
    from sentiment.training.finetune import calibrate

    rng = np.random.default_rng(4)
    logits = rng.normal(size=(3000, 3)) * 3
    y = np.array([rng.choice(3, p=p) for p in softmax(logits / 2)])
    languages = ["ru" if i % 2 else "en" for i in range(3000)]
    result = calibrate(logits, y, languages)
    assert result.temperature == pytest.approx(2.0, rel=0.15)
    assert set(result.thresholds) == {"*", "ru", "en"}
    assert result.ece_after < result.ece_before


def test_length_bucketed_batches_cover_every_row_once_with_little_padding() -> None:
    from sentiment.training.finetune import length_bucketed_batches

    rng = np.random.default_rng(5)
    lengths = rng.integers(5, 64, 1000).tolist()
    batches = list(length_bucketed_batches(lengths, 32, np.random.default_rng(0)))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    random_order = [list(range(s, min(s + 32, 1000))) for s in range(0, 1000, 32)]
    padded_random = sum(len(b) * max(lengths[i] for i in b) for b in random_order)
    assert padded < 0.8 * padded_random


def test_vector_scaling_recovers_each_languages_temperature_and_class_shift() -> None:
    """A class balance that differs by language is undone per language, which one temperature cannot do."""
    from sentiment.training.finetune import calibrate
    from sentiment.training.metrics import expected_calibration_error

    rng = np.random.default_rng(7)
    logits = rng.normal(size=(6000, 3)) * 3
    languages = np.array(["ru" if i % 2 else "en" for i in range(6000)])
    truth_ru = softmax(logits / 2 + np.array([1.0, 0.0, -0.5]))
    truth_en = softmax(logits / 1.5 + np.array([-1.0, 0.0, 0.0]))
    true_probs = np.where((languages == "ru")[:, None], truth_ru, truth_en)
    y = np.array([rng.choice(3, p=p) for p in true_probs])

    result = calibrate(logits, y, languages.tolist())

    ru, en = result.scalings["ru"], result.scalings["en"]
    assert ru.temperature == pytest.approx(2.0, rel=0.15)
    assert en.temperature == pytest.approx(1.5, rel=0.15)
    assert ru.bias[0] == pytest.approx(1.0, abs=0.25) and ru.bias[2] == pytest.approx(-0.5, abs=0.25)
    assert en.bias[0] == pytest.approx(-1.0, abs=0.25) and en.bias[2] == pytest.approx(0.0, abs=0.25)
    one_temperature = softmax(logits / result.temperature)
    for language in ("ru", "en"):
        sel = languages == language
        scaled = result.scalings[language].probs(logits[sel])
        assert expected_calibration_error(scaled, y[sel]) < expected_calibration_error(
            one_temperature[sel], y[sel]
        )


def test_a_language_with_few_dev_rows_falls_back_to_the_all_languages_fit() -> None:
    from sentiment.training.finetune import MIN_CALIBRATION_ROWS, calibrate

    rng = np.random.default_rng(8)
    logits = rng.normal(size=(2000, 3)) * 2
    y = np.array([rng.choice(3, p=p) for p in softmax(logits)])
    languages = ["ru"] * (2000 - MIN_CALIBRATION_ROWS + 1) + ["other"] * (MIN_CALIBRATION_ROWS - 1)
    result = calibrate(logits, y, languages)
    assert set(result.scalings) == {"*", "ru"}
    assert set(result.thresholds) == {"*", "ru"}


def test_calibration_round_trips_through_the_model_files_metadata() -> None:
    from sentiment.model import read_scalings, read_thresholds
    from sentiment.training.finetune import calibrate

    rng = np.random.default_rng(9)
    logits = rng.normal(size=(1000, 3))
    y = rng.integers(0, 3, 1000)
    result = calibrate(logits, y, ["en"] * 1000)
    meta = result.meta()
    assert read_thresholds(meta) == result.thresholds
    read = read_scalings(meta)
    assert set(read) == {"*", "en"}
    np.testing.assert_allclose(read["en"].probs(logits), result.scalings["en"].probs(logits), atol=1e-4)


def test_make_model_trains_the_shipped_models_recipe() -> None:
    """`make model` (`model train` with its defaults) must rebuild what is shipped, epochs included."""
    from mentiondesk.cli import TRAIN_EPOCHS
    from sentiment.model import MODEL_FILE, Head
    from sentiment.training.finetune import EPOCHS

    assert TRAIN_EPOCHS == EPOCHS
    assert f"epochs={EPOCHS} " in (Head.load(MODEL_FILE).meta or {})["recipe"]
