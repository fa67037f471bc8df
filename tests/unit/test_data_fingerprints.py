"""The data fingerprints a model file records: what they hash, what a mismatch says, and that the real
data pass while a reordered copy of one file does not (held-out and validation rows are chosen by
row position, so a reordered copy would put training rows into them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment.model import MODEL_FILE, Head
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import record_fingerprints, verify_data
from sentiment.training.fingerprints import (
    FINGERPRINTS_KEY,
    PARTS,
    DataMismatch,
    PartPrint,
    check,
    part_print,
    prints_meta,
    recorded_prints,
)
from tests.data_subset import OSC, copy_data, shuffle_csv
from tests.support import DATA_DIR, LABELLED_FILES, needs_data


def test_a_part_is_its_rows_in_any_order_and_nothing_else() -> None:
    texts, labels = ["плохо", "нормально", "отлично"], ["negative", "neutral", "positive"]
    one = part_print(texts, labels)

    assert one.rows == 3
    assert part_print(texts[::-1], labels[::-1]) == one
    assert part_print(texts, ["negative", "neutral", "negative"]) != one
    assert part_print(texts[:2], labels[:2]) != one
    assert part_print(texts + texts[:1], labels + labels[:1]) != one


def test_the_metadata_entry_reads_back() -> None:
    prints = {"airline": {part: PartPrint(i, f"{i:016x}") for i, part in enumerate(PARTS)}}

    assert recorded_prints(prints_meta(prints)) == prints
    assert recorded_prints({"seed": "0"}) is None


@pytest.mark.parametrize("damaged", ["{not json", '{"airline": {"test": {"rows": "x"}}}', '["airline"]'])
def test_a_damaged_entry_is_refused_not_taken_for_a_missing_one(damaged: str) -> None:
    with pytest.raises(DataMismatch, match=FINGERPRINTS_KEY):
        recorded_prints({FINGERPRINTS_KEY: damaged})


def _check(found: dict[str, dict[str, PartPrint]], **kwargs: object) -> str | None:
    recorded = {
        "airline": {part: PartPrint(10, f"a{part}") for part in PARTS},
        "tweeteval": {part: PartPrint(5, f"t{part}") for part in PARTS},
    }
    return check(
        recorded,
        found,
        list(found),
        ["airline", "tweeteval"],
        model_file=Path("m.safetensors"),
        data_dir=Path("/data"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_changed_part_is_refused_with_the_set_and_the_part_named() -> None:
    same = {"airline": {part: PartPrint(10, f"a{part}") for part in PARTS}}
    assert _check(same) is None

    moved = {"airline": {**same["airline"], "test": PartPrint(10, "other")}}
    with pytest.raises(DataMismatch) as refused:
        _check(moved)
    message = str(refused.value)
    assert "airline: test part" in message and "recorded 10 rows, fingerprint atest" in message
    assert "/data" in message and "m.safetensors" in message
    assert "tweeteval" not in message  # only the sets in use are compared
    assert _check(moved, parts=("train", "validation")) is None


def test_a_set_the_model_never_trained_on_needs_no_record_but_a_training_set_does() -> None:
    never = {"newset": {part: PartPrint(3, "x") for part in PARTS}}
    assert check({}, never, ["newset"], ["airline"], model_file=Path("m"), data_dir=Path("d")) is None
    with pytest.raises(DataMismatch, match="airline: the model file records no fingerprints"):
        check({}, never, ["airline"], ["airline"], model_file=Path("m"), data_dir=Path("d"))


def test_a_model_file_without_fingerprints_is_not_checked_but_warned_about() -> None:
    warning = check(None, {}, ["airline"], ["airline"], model_file=Path("old.st"), data_dir=Path("d"))
    assert warning is not None and "old.st records no data fingerprints" in warning


# ---------------------------------------------------------------------------- on the real data


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped model with the real data's fingerprints recorded (tensors unchanged)."""
    out = tmp_path_factory.mktemp("model") / "model.safetensors"
    record_fingerprints(MODEL_FILE, DATA_DIR, out)
    return out


@needs_data(*LABELLED_FILES)
def test_recording_keeps_the_tensors_and_the_unchanged_data_pass(stamped: Path) -> None:
    from safetensors.numpy import load_file

    before, after = load_file(str(MODEL_FILE)), load_file(str(stamped))
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k]) and before[k].dtype == after[k].dtype for k in before)
    old_meta, meta = Head.load(MODEL_FILE).meta or {}, Head.load(stamped).meta or {}
    assert {k: v for k, v in meta.items() if k != FINGERPRINTS_KEY} == {
        k: v for k, v in old_meta.items() if k != FINGERPRINTS_KEY
    }
    recorded = recorded_prints(meta)
    assert recorded is not None
    benches = load_benchmarks(DATA_DIR)
    assert {name: parts["test"].rows for name, parts in recorded.items()} == {
        b.name: len(b.test) for b in benches
    }

    assert verify_data(meta, benches, model_file=stamped, data_dir=DATA_DIR) is None


@needs_data(*LABELLED_FILES)
def test_a_reordered_copy_of_a_file_with_a_positional_hold_out_is_refused(
    stamped: Path, tmp_path: Path
) -> None:
    data = copy_data(DATA_DIR, tmp_path / "data", LABELLED_FILES)
    shuffle_csv(data / OSC)
    meta = Head.load(stamped).meta

    for parts in (PARTS, ("test",)):
        with pytest.raises(DataMismatch) as refused:
            verify_data(meta, load_benchmarks(data), model_file=stamped, data_dir=data, parts=parts)
        message = str(refused.value)
        assert "opensentimentcorpus: test part" in message
        assert all(name not in message for name in ("rusentitweet:", "tweeteval:", "airline:"))


@needs_data(*LABELLED_FILES)
def test_a_reordered_official_split_changes_only_what_position_chooses(stamped: Path, tmp_path: Path) -> None:
    """RuSentiTweet's test file is the test part whatever its order, but the recipe's validation rows
    are chosen by position in its training file."""
    data = copy_data(DATA_DIR, tmp_path / "data", LABELLED_FILES)
    shuffle_csv(data / "rusentitweet/rusentitweet_test.csv")
    meta = Head.load(stamped).meta
    assert verify_data(meta, load_benchmarks(data), model_file=stamped, data_dir=data) is None

    shuffle_csv(data / "rusentitweet/rusentitweet_train.csv")
    benches = load_benchmarks(data)
    assert verify_data(meta, benches, model_file=stamped, data_dir=data, parts=("test",)) is None
    with pytest.raises(DataMismatch, match="rusentitweet: validation part"):
        verify_data(meta, benches, model_file=stamped, data_dir=data)
