"""`mentiondesk model distill` as a user runs it on the model in force: the student lands beside the
model's file, `eval` with MD_INFERENCE=auto then serves it on the fast path, and a retrain's model does
not inherit it. A tiny data folder in the shared data's formats and a few texts keep it short; the
shipped student's figures are checked against the torch path's in test_fast_inference.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from core.settings import Settings
from sentiment.model import MODEL_FILE, Head, builtin_version
from sentiment.onnx_export import export_dir
from sentiment.registry import MODEL_NAME, ModelRegistry
from sentiment.student import STUDENT_FILE, StudentWeights
from sentiment.training.distill import LAYERS
from sentiment.training.finetune import record_fingerprints
from tests.integration.test_eval_cli import write_data
from tests.support import run_cli


@pytest.fixture
def in_force(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A tiny data folder, the shipped model stamped with its fingerprints put in force (no student
    beside it), and the environment that says so."""
    data = tmp_path / "data"
    write_data(data)
    stamped = tmp_path / "stamped" / MODEL_NAME
    record_fingerprints(MODEL_FILE, data, stamped)
    registry = ModelRegistry(tmp_path / "models")
    registry.activate(stamped, builtin_version(stamped, Head.load(stamped)))
    active = registry.active_file()
    assert active is not None
    # The student is the fast path's form of a model on ONNX Runtime (on OpenVINO it is the model in int8).
    env = {"MD_MODEL_DIR": str(tmp_path / "models"), "MD_INFERENCE": "auto", "MD_FAST_RUNTIME": "onnxruntime"}
    return data, active, env


def test_a_distilled_student_is_served_on_auto_and_only_for_its_model(
    in_force: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    data, active, env = in_force
    teacher_version = builtin_version(active, Head.load(active))
    before = run_cli("eval", "--data", str(data), "--output", str(tmp_path / "before"), env=env)
    assert before.returncode == 0, before.stderr
    assert "(torch inference)" in before.stdout  # no student yet: auto is torch

    # the default shape is narrow (the next test); this one is half the layers, whole
    args = ("model", "distill", "--data", str(data), "--limit", "40", "--epochs", "1", "--shape", "shallow")
    made = run_cli(*args, env=env)

    assert made.returncode == 0, made.stderr
    student = active.parent / STUDENT_FILE.name
    metrics = json.loads(made.stdout)
    with safe_open(str(student), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    assert meta["student_of"] == metrics["student_of"] == teacher_version
    assert meta["student_layers"] == ",".join(str(i) for i in LAYERS)
    assert meta["student_texts"].startswith(f"{metrics['n_texts']} texts, sha256 ")
    # stored as low-rank deltas from the built encoder's layers, small enough for a repository
    assert student.stat().st_size < 5 * 1024 * 1024
    with safe_open(str(student), framework="numpy") as f:
        names = list(f.keys())
        factor_types = {f.get_tensor(n).dtype.name for n in names if n.startswith("lora.")}
    assert sum(n.startswith("lora.encoder.layer.") for n in names) == len(LAYERS) * 6 * 2
    # the factors in int8, each with its per-row scales
    assert factor_types == {"int8"}
    assert sum(n.startswith("scale.lora.encoder.layer.") for n in names) == len(LAYERS) * 6 * 2
    assert not [n for n in names if n.startswith("student.") and n.endswith("dense.weight")]
    assert json.loads(meta["thresholds"])  # calibrated for the student on the dev part
    assert set(metrics["test"]) == {"rusentitweet", "opensentimentcorpus", "tweeteval", "airline"}
    assert (active.parent / "fast-metrics.json").is_file()
    assert metrics["resumed_from"] is None

    # The student of stages 1 and 2 was kept: --resume makes the stored student again from stage 3.
    again = run_cli(*args, "--resume", env=env)
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["resumed_from"] and Path(resumed["resumed_from"]).is_file()
    assert resumed["student_of"] == teacher_version
    # The stored student (int8 low-rank deltas) embeds as the kept student it was made from.
    assert _stored_to_kept_cosine(student, Path(resumed["resumed_from"])) > 0.97
    Path(resumed["resumed_from"]).unlink()
    metrics = resumed  # the student beside the model now

    try:
        after = run_cli("eval", "--data", str(data), "--output", str(tmp_path / "after"), env=env)
        assert after.returncode == 0, after.stderr
        assert "(fast inference)" in after.stdout
        report = json.loads((tmp_path / "after" / "report.json").read_text("utf-8"))
        assert report["model_version"] == metrics["model_version"]
        assert report["model_version"].startswith("e5-small-fast-")

        # A retrain puts another model in force: the student of the old one is not used for it.
        retrained = tmp_path / "retrained" / MODEL_NAME
        retrained.parent.mkdir()
        tensors = load_file(str(active))
        with safe_open(str(active), framework="numpy") as f:  # same data prints, another file
            save_file(tensors, str(retrained), metadata={**(f.metadata() or {}), "retrained": "1"})
        ModelRegistry(tmp_path / "models").activate(
            retrained, builtin_version(retrained, Head.load(retrained))
        )
        shutil.copyfile(student, retrained.parent / STUDENT_FILE.name)
        later = run_cli("eval", "--data", str(data), "--output", str(tmp_path / "later"), env=env)
        assert later.returncode == 0, later.stderr
        assert "(torch inference)" in later.stdout
    finally:  # the student's export is a few hundred MB in the shared model cache
        shutil.rmtree(export_dir(Settings().model_cache_dir, metrics["model_version"]), ignore_errors=True)


def test_a_narrow_student_keeps_half_of_each_layer_and_is_served_on_the_fast_path(
    in_force: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    data, active, env = in_force
    args = ("model", "distill", "--data", str(data), "--limit", "40", "--epochs", "1")  # narrow: the default

    made = run_cli(*args, env=env)

    assert made.returncode == 0, made.stderr
    metrics = json.loads(made.stdout)
    assert metrics["student_shape"] == "layers=12 heads=6 units=768"
    student = active.parent / STUDENT_FILE.name
    tensors = load_file(str(student))
    with safe_open(str(student), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    stored = StudentWeights.of(tensors, meta)
    assert stored.layers == tuple(range(12))
    assert stored.widths is not None and set(stored.widths) == set(range(12))
    assert {(len(w.heads), len(w.units)) for w in stored.widths.values()} == {(6, 768)}
    # the cut shapes are stored: a query delta maps 384 inputs to 6 heads of 32
    assert tensors["lora.encoder.layer.0.attention.self.query.b"].shape[0] == 192
    assert student.stat().st_size < 5 * 1024 * 1024
    assert metrics["resumed_from"] is None  # a fresh run, which keeps its student of stages 1 and 2
    again = run_cli(*args, "--resume", env=env)
    assert again.returncode == 0, again.stderr
    kept = Path(json.loads(again.stdout)["resumed_from"])
    assert _stored_to_kept_cosine(student, kept) > 0.97
    kept.unlink()
    version = json.loads(again.stdout)["model_version"]

    try:
        served = run_cli("eval", "--data", str(data), "--output", str(tmp_path / "fast"), env=env)
        assert served.returncode == 0, served.stderr
        assert "(fast inference)" in served.stdout
        report = json.loads((tmp_path / "fast" / "report.json").read_text("utf-8"))
        assert report["model_version"] == version
        # The fused graph (6 heads of 32 per layer) embeds as the student does in transformers.
        export = export_dir(Settings().model_cache_dir, version)
        fused = json.loads((export / "mentiondesk-export.json").read_text("utf-8"))["fused_operators"]
        assert fused["Attention"] == 12
        assert _fast_to_torch_cosine(student, export) > 0.9999
    finally:
        shutil.rmtree(export_dir(Settings().model_cache_dir, version), ignore_errors=True)


TEXTS = [
    "Третий день не могу дозвониться в поддержку, верните деньги за заказ",
    "Спасибо курьеру, привёз вовремя и всё целое!",
    "@AmericanAir my bag is still missing after two days, nobody answers",
    "The new app update is great, checkout takes seconds now",
    "Завтра в городе обещают дождь и ветер до 15 м/с.",
]


def _fast_to_torch_cosine(student: Path, export: Path) -> float:
    """Least cosine, over a few texts, between the student's export on ONNX Runtime and the student
    in `transformers`."""
    import numpy as np

    from sentiment.encoder_build import ensure_encoder
    from sentiment.model import E5Encoder
    from sentiment.onnx_encoder import OnnxEncoder
    from sentiment.onnx_export import read_export
    from sentiment.student import StudentWeights

    folder = ensure_encoder(Settings().model_cache_dir)
    info = read_export(export)
    assert info is not None
    with safe_open(str(student), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    torch_side = E5Encoder(folder, 64, 8, 1, student=StudentWeights.of(load_file(str(student)), meta))
    fast_side = OnnxEncoder(info, folder, 64, 8, 1)
    return float(np.min(np.sum(torch_side.embed(TEXTS) * fast_side.embed(TEXTS), axis=1)))


def _stored_to_kept_cosine(student: Path, kept: Path) -> float:
    """Least cosine, over a few real-looking texts, between the stored student's pooled embedding (as
    served) and the kept stage-2 student's (every weight, fp32)."""
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    from sentiment.encoder_build import ensure_encoder
    from sentiment.model import QUERY_PREFIX, E5Encoder, _pad
    from sentiment.training.distill import load_checkpoint
    from sentiment.training.finetune import pooled_embedding

    settings = Settings()
    folder = ensure_encoder(settings.model_cache_dir)
    texts = TEXTS
    with safe_open(str(student), framework="numpy") as f:
        weights = StudentWeights.of(load_file(str(student)), dict(f.metadata() or {}))
    stored = E5Encoder(folder, 64, 8, 1, student=weights).embed(texts)
    model, _widths = load_checkpoint(folder, kept, weights.layers)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    ids, mask = _pad(
        tokenizer([QUERY_PREFIX + t for t in texts], truncation=True, max_length=64)["input_ids"],
        int(tokenizer.pad_token_id),
    )
    with torch.no_grad():
        whole = pooled_embedding(model, ids, mask).numpy()
    return float(np.min(np.sum(stored * whole, axis=1)))
