"""`model eval`, `model calibrate` and `model retrain` refuse a reordered copy of the data the model
was made with, as a user would run them: exit status 1, the data set named, before the encoder
loads or anything is scored, and nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sentiment.model import MODEL_FILE, Head, builtin_version
from sentiment.registry import MODEL_NAME, ModelRegistry
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import verify_data
from tests.data_subset import OSC, copy_data, shuffle_csv
from tests.support import DATA_DIR, LABELLED_FILES, needs_data, run_cli

pytestmark = needs_data(*LABELLED_FILES)

ENCODER_LOADS = "Loading weights"  # what transformers prints when the encoder loads


@pytest.fixture(scope="module")
def reordered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real data with the rows of OpenSentimentCorpus's file shuffled."""
    data = copy_data(DATA_DIR, tmp_path_factory.mktemp("data"), LABELLED_FILES)
    shuffle_csv(data / OSC)
    return data


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A model folder whose model in force is a copy of the shipped model file."""
    folder = tmp_path / "models"
    model_file = folder / "stamped" / MODEL_NAME
    model_file.parent.mkdir(parents=True)
    shutil.copy(MODEL_FILE, model_file)
    ModelRegistry(folder).activate(model_file, builtin_version(model_file, Head.load(model_file)))
    return folder


def test_the_shipped_model_records_the_data_it_was_made_with() -> None:
    """Recording the real data's fingerprints again changes nothing: the shipped file holds them."""
    meta = Head.load(MODEL_FILE).meta
    assert meta is not None and "data_fingerprints" in meta
    benches = load_benchmarks(DATA_DIR)
    assert verify_data(meta, benches, model_file=MODEL_FILE, data_dir=DATA_DIR) is None


def test_eval_of_the_shipped_model_refuses_a_reordered_copy(reordered: Path, tmp_path: Path) -> None:
    """As a new user runs it: no model folder of their own, the shipped model in force."""
    out = tmp_path / "report"

    result = run_cli(
        "eval", "--data", str(reordered), "--output", str(out), env={"MD_MODEL_DIR": str(tmp_path / "none")}
    )

    _refused(result)
    assert not out.exists()


def _refused(result: subprocess.CompletedProcess[str], name: str = "opensentimentcorpus") -> str:
    stderr = result.stderr
    assert result.returncode == 1, stderr
    assert f"{name}: test part" in stderr and "not the data" in stderr, stderr
    assert ENCODER_LOADS not in stderr and "eval " not in stderr and "embed " not in stderr, stderr
    return stderr


def test_eval_refuses_a_reordered_copy_before_scoring(
    model_dir: Path, reordered: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"

    result = run_cli(
        "model", "eval", "--data", str(reordered), "--output", str(out), env={"MD_MODEL_DIR": str(model_dir)}
    )

    _refused(result)
    assert not out.exists()

    # The other data sets' test parts are untouched by the reordering: evaluating them alone is fine
    # as far as the check goes (not run here: scoring takes a while; see test_data_fingerprints).


def test_calibrate_refuses_it_and_leaves_the_model_file_as_it_was(model_dir: Path, reordered: Path) -> None:
    model_file = model_dir / "stamped" / MODEL_NAME
    before = model_file.read_bytes()

    result = run_cli("model", "calibrate", "--data", str(reordered), "--model", str(model_file))

    _refused(result)
    assert model_file.read_bytes() == before
    assert not (model_file.parent / "metrics.json").exists()


def test_retrain_refuses_it_before_training(model_dir: Path, reordered: Path, tmp_path: Path) -> None:
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(json.dumps({"text": "worst airline ever", "label": "negative"}) + "\n", "utf-8")
    pointer = (model_dir / "active.json").read_text("utf-8")

    result = run_cli(
        "model",
        "retrain",
        "--data",
        str(reordered),
        "--corrections",
        str(corrections),
        env={"MD_MODEL_DIR": str(model_dir)},
    )

    _refused(result)
    assert sorted(p.name for p in model_dir.iterdir()) == ["active.json", "stamped"]
    assert (model_dir / "active.json").read_text("utf-8") == pointer


def test_model_export_refuses_it_before_calibrating_the_int8_model(
    model_dir: Path, reordered: Path, tmp_path: Path
) -> None:
    """The int8 model's ranges come from the dev part: a reordered copy would put other rows there."""
    cache = tmp_path / "cache"

    result = run_cli(
        "model",
        "export",
        env={
            "MD_MODEL_DIR": str(model_dir),
            "MD_DATA_DIR": str(reordered),
            "MD_MODEL_CACHE_DIR": str(cache),
            "MD_FAST_RUNTIME": "openvino",
            "MD_FAST_PRECISION": "int8",
        },
    )

    stderr = result.stderr
    assert result.returncode == 1, stderr
    assert "cannot calibrate the int8 model" in stderr and "opensentimentcorpus" in stderr, stderr
    assert "not the data" in stderr and ENCODER_LOADS not in stderr, stderr
    assert not any((cache / "openvino").iterdir()), "nothing is left in the cache"
