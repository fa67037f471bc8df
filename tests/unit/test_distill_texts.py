"""The student learns from texts the reported figures never judge, and its file says which texts."""

from __future__ import annotations

from sentiment.training.datasets import load_benchmarks
from sentiment.training.distill import distill_texts, texts_fingerprint
from sentiment.training.finetune import TRAIN_SETS, recipe_split
from tests.support import DATA_DIR, LABELLED_FILES, needs_data


def test_the_fingerprint_follows_the_texts_and_their_order() -> None:
    assert texts_fingerprint(["a", "b"]) == texts_fingerprint(["a", "b"])
    assert texts_fingerprint(["a", "b"]) != texts_fingerprint(["b", "a"])
    assert texts_fingerprint(["ab"]) != texts_fingerprint(["a", "b"])


@needs_data(*LABELLED_FILES)
def test_the_real_distillation_texts_hold_no_dev_held_out_or_test_row() -> None:
    """Some texts occur twice in the data (72 airline tweets are in both its parts): those are texts
    of a training part too; no other held-out, test or dev text may be among the student's."""
    benches = load_benchmarks(DATA_DIR)
    texts = set(distill_texts(benches, {"seed": "0"}, DATA_DIR))
    _train, dev = recipe_split(benches, TRAIN_SETS, 0)
    trained_on = {t for bench in benches for t in bench.train.texts}

    assert len(texts) > 29_000
    assert texts & {t for bench in benches for t in bench.test.texts} <= trained_on
    assert texts & {e.text for e in dev} <= trained_on
