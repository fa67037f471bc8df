"""The fast inference path on ONNX Runtime (MD_FAST_RUNTIME=onnxruntime): the model's distilled student;
a model without a student (or with a student of another version) is served by its whole encoder's
export, which scores real texts as the torch path does. The student's figures beside the torch path's
on every held-out set are in `test_openvino_fast_path.py`, with the OpenVINO form's.

The export of the shipped student is built once (by `make encoder`, else by the first test here) and
kept on disk in MD_MODEL_CACHE_DIR, so these tests reuse it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from core.settings import Settings
from mentiondesk.cli import DISTILL_SHAPE
from sentiment.model import MODEL_FILE, E5HeadModel, Head, builtin_version, load_builtin
from sentiment.onnx_export import ensure_export, export_dir, read_export
from sentiment.student import STUDENT_FILE
from sentiment.training.distill import SHAPES
from tests.support import DATA_DIR, mixed_real_tweets, needs_data

RUSENTITWEET_TEST = DATA_DIR / "rusentitweet" / "rusentitweet_test.csv"
TWEETEVAL_VAL = DATA_DIR / "tweeteval-sentiment" / "val_text.txt"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        model=None, quantize=None, torch_threads=2, max_length=128, batch_size=32, fast_runtime="onnxruntime"
    )


@pytest.fixture(scope="module")
def torch_model(settings: Settings) -> E5HeadModel:
    return load_builtin(settings, MODEL_FILE, inference="torch")


@pytest.fixture(scope="module")
def fast_model(settings: Settings) -> E5HeadModel:
    return load_builtin(settings, MODEL_FILE, inference="fast")


def test_the_shipped_fast_path_is_the_distilled_student(
    settings: Settings, torch_model: E5HeadModel, fast_model: E5HeadModel
) -> None:
    assert (torch_model.inference, fast_model.inference) == ("torch", "fast")
    assert fast_model.path == STUDENT_FILE
    assert fast_model.version.startswith("e5-small-fast-") and fast_model.version != torch_model.version
    assert (fast_model.head.meta or {})["student_of"] == torch_model.version
    # The student's layers in the graph ONNX Runtime runs: one fused attention per layer.
    export = read_export(export_dir(settings.model_cache_dir, fast_model.version))
    assert export is not None
    layers = (fast_model.head.meta or {})["student_layers"].split(",")
    assert export.meta["fused_operators"]["Attention"] == len(layers) == len(SHAPES[DISTILL_SHAPE].layers)


@pytest.fixture
def plain_copy(tmp_path: Path) -> Path:
    """The shipped model file alone in a folder (no student beside it): the same version."""
    path = tmp_path / "plain" / MODEL_FILE.name
    path.parent.mkdir()
    shutil.copyfile(MODEL_FILE, path)
    return path


@needs_data("rusentitweet/rusentitweet_test.csv", "tweeteval-sentiment/val_text.txt")
def test_the_whole_encoder_export_scores_200_real_texts_as_the_torch_path_does(
    settings: Settings, torch_model: E5HeadModel, plain_copy: Path
) -> None:
    whole = load_builtin(settings, plain_copy, inference="fast")
    assert whole.inference == "fast"
    assert whole.version == torch_model.version  # the same model, served by another runtime
    texts = mixed_real_tweets(200)
    slow = torch_model.score(texts)
    fast = whole.score(texts)
    agree = sum(a.label == b.label for a, b in zip(slow, fast, strict=True))
    assert agree >= 0.97 * len(texts), f"labels agree on {agree} of {len(texts)}"
    gaps = np.array([abs(a.negativity - b.negativity) for a, b in zip(slow, fast, strict=True)])
    assert gaps.max() < 0.01, f"negativity differs by up to {gaps.max():.4f}"
    # The embeddings themselves, batched and in the texts' own order, match closely.
    x_slow = torch_model.encoder.embed(texts[:64])
    x_fast = whole.encoder.embed(texts[:64])
    assert float((x_slow * x_fast).sum(axis=1).min()) > 0.999


def _damaged_student(folder: Path, how: str) -> None:
    """A student file beside a model file: cut short, or whole but missing a layer's delta."""
    target = folder / STUDENT_FILE.name
    if how == "truncated":
        target.write_bytes(STUDENT_FILE.read_bytes()[:100_000])
        return
    with safe_open(str(STUDENT_FILE), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    tensors = {k: v for k, v in load_file(str(STUDENT_FILE)).items() if "layer.1.attention.self.key" not in k}
    meta["student_recipe"] += " (damaged)"  # another version: no export of it is cached
    save_file(tensors, str(target), metadata=meta)


@needs_data("tweeteval-sentiment/val_text.txt")
@pytest.mark.parametrize("how", ["truncated", "missing a delta"])
def test_a_damaged_student_is_reported_and_the_whole_encoder_serves(
    settings: Settings,
    torch_model: E5HeadModel,
    plain_copy: Path,
    how: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _damaged_student(plain_copy.parent, how)
    with caplog.at_level("ERROR"):
        model = load_builtin(settings, plain_copy, inference="fast")
    assert model.inference == "fast" and model.path == plain_copy
    assert model.version == torch_model.version, "the model itself, not its student"
    assert any("fast path" in r.getMessage() and STUDENT_FILE.name in r.getMessage() for r in caplog.records)
    texts = [t.strip() for t in TWEETEVAL_VAL.read_text("utf-8").splitlines() if t.strip()][:16]
    gaps = [
        abs(a.negativity - b.negativity)
        for a, b in zip(model.score(texts), torch_model.score(texts), strict=True)
    ]
    assert max(gaps) < 0.01, "the whole encoder's export scores as the torch path does"


def _retrained_copy(folder: Path) -> Path:
    """The committed model file with its adapter changed (as a retrain changes it): another version."""
    tensors = load_file(str(MODEL_FILE))
    with safe_open(str(MODEL_FILE), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    for name in [k for k in tensors if k.startswith("lora.") and k.endswith(".b")]:
        tensors[name] = (tensors[name].astype(np.float32) * 2.0).astype(tensors[name].dtype)
    path = folder / "model.safetensors"
    save_file(tensors, str(path), metadata=meta)
    return path


@pytest.fixture
def retrained(tmp_path: Path, settings: Settings) -> Iterator[Path]:
    path = _retrained_copy(tmp_path)
    yield path
    # Its export is a 470 MB folder in the shared model cache: not kept after the test.
    shutil.rmtree(
        export_dir(settings.model_cache_dir, builtin_version(path, Head.load(path))), ignore_errors=True
    )


@needs_data("tweeteval-sentiment/val_text.txt")
def test_a_model_of_another_version_gets_its_own_export(
    settings: Settings, fast_model: E5HeadModel, retrained: Path
) -> None:
    # The shipped student beside it was made from the model before the retrain: not used.
    shutil.copyfile(STUDENT_FILE, retrained.parent / STUDENT_FILE.name)
    committed = read_export(export_dir(settings.model_cache_dir, fast_model.version))
    assert committed is not None and committed.model_version == fast_model.version
    version = builtin_version(retrained, Head.load(retrained))
    assert version != fast_model.version
    assert read_export(export_dir(settings.model_cache_dir, version)) is None

    new = load_builtin(settings, retrained, inference="fast")
    export = read_export(export_dir(settings.model_cache_dir, version))
    assert export is not None and export.model_version == new.version == version
    assert export.folder != committed.folder and committed.graph.is_file()
    # The export is of the new weights: it follows the torch path of the new file, not the old export.
    texts = [t.strip() for t in TWEETEVAL_VAL.read_text("utf-8").splitlines() if t.strip()][:32]
    x_new = new.encoder.embed(texts)
    x_ref = load_builtin(settings, retrained, inference="torch").encoder.embed(texts)
    x_old = fast_model.encoder.embed(texts)
    assert float((x_new * x_ref).sum(axis=1).min()) > 0.999
    assert float((x_new * x_old).sum(axis=1).min()) < 0.999
    # Asked again, the export is found on disk, not rebuilt.
    assert ensure_export(settings, retrained, version).meta == export.meta
