"""How a student is stored: low-rank deltas from the built encoder's layers plus its biases and norms,
small enough for the repository, and loaded back into exactly the network that was trained."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import load_file

from core.settings import Settings
from sentiment.adapter import Adapter
from sentiment.encoder_build import ensure_encoder
from sentiment.model import MODEL_FILE, QUERY_PREFIX, Head, _pad, write_model_file
from sentiment.student import (
    PREFIX,
    SCALE_PREFIX,
    STUDENT_FILE,
    LayerWidth,
    StudentWeights,
    cut_encoder,
    kept_parameter,
    load_student,
    shrink,
    student_tensors,
    width_tensors,
)
from sentiment.training.distill import COMPRESS_RANK, LAYERS, SHAPES, low_rank_deltas, whole_teacher
from sentiment.training.finetune import pooled_embedding

TEXTS = [
    "Ужасный сервис, деньги не вернули уже месяц",
    "Спасибо, курьер приехал вовремя!",
    "Курс рубля вырос на 2%",
    "@united worst support ever, still waiting for my bag",
    "Thanks, great flight and a friendly crew",
]
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def folder() -> Path:
    torch.set_num_threads(1)
    return ensure_encoder(Settings().model_cache_dir)


def _embed(model: Any, folder: Path) -> torch.Tensor:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    ids, mask = _pad([tokenizer(QUERY_PREFIX + t)["input_ids"] for t in TEXTS], int(tokenizer.pad_token_id))
    with torch.no_grad():
        return pooled_embedding(model.eval(), ids, mask)


def _trained_student(folder: Path) -> Any:
    """A stand-in for stages 1 and 2 of a six-layer student: the fine-tuned model cut to its layers,
    every weight moved."""
    tensors = load_file(str(MODEL_FILE))
    adapter = Adapter.from_tensors(tensors, float((Head.load(MODEL_FILE).meta or {})["lora_scale"]))
    student = shrink(whole_teacher(folder, adapter), LAYERS)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in student.encoder.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.002)
    return student


def test_a_full_rank_delta_stores_the_trained_student_exactly(folder: Path, tmp_path: Path) -> None:
    """Through the file, as `model distill` writes it and the fast path reads it (the SVD's factors
    are column-major arrays: written as they lie in memory they would read back scrambled)."""
    student = _trained_student(folder)
    path = tmp_path / "fast.safetensors"
    write_model_file(student_tensors(student, low_rank_deltas(folder, student, LAYERS, 384)), path, {})
    loaded = load_student(folder, StudentWeights(load_file(str(path)), LAYERS))

    cosine = (_embed(loaded, folder) * _embed(student, folder)).sum(dim=-1)
    assert float(cosine.min()) > 0.999  # int8 factors and fp16 norms only


def _narrow_student(folder: Path) -> tuple[Any, dict[int, LayerWidth]]:
    """A stand-in for a narrow student after training: all twelve layers, each cut to its own half of
    the heads and units, every weight moved."""
    rng = np.random.default_rng(3)
    widths = {
        i: LayerWidth(
            tuple(sorted(int(h) for h in rng.choice(12, 6, replace=False))),
            tuple(sorted(int(u) for u in rng.choice(1536, 768, replace=False))),
        )
        for i in range(12)
    }
    student = cut_encoder(folder, tuple(range(12)), widths)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in student.encoder.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.002)
    return student, widths


def test_a_narrow_student_is_stored_with_the_heads_and_units_it_keeps(folder: Path, tmp_path: Path) -> None:
    student, widths = _narrow_student(folder)
    every = tuple(range(12))
    path = tmp_path / "fast.safetensors"
    deltas = low_rank_deltas(folder, student, every, 384, widths)
    write_model_file({**student_tensors(student, deltas), **width_tensors(widths)}, path, {})
    stored = StudentWeights(load_file(str(path)), every)

    assert stored.widths == widths
    loaded = load_student(folder, stored)
    assert loaded.encoder.layer[4].attention.self.query.out_features == 6 * 32
    assert loaded.encoder.layer[4].output.dense.in_features == 768
    cosine = (_embed(loaded, folder) * _embed(student, folder)).sum(dim=-1)
    assert float(cosine.min()) > 0.999
    # without its kept-heads and kept-units lists the file fits no encoder: refused, not guessed
    whole = {k: v for k, v in stored.tensors.items() if not k.startswith("keep.")}
    with pytest.raises(ValueError, match="has shape"):
        load_student(folder, StudentWeights(whole, every))


def test_delta_factors_are_stored_in_int8_with_a_scale_per_row(folder: Path) -> None:
    student = _trained_student(folder)
    deltas = low_rank_deltas(folder, student, LAYERS, COMPRESS_RANK)
    stored = student_tensors(student, deltas)

    for path, (a, b) in deltas.pairs.items():
        for side, factor in (("a", a), ("b", b)):
            q, scale = stored[f"lora.{path}.{side}"], stored[f"{SCALE_PREFIX}lora.{path}.{side}"]
            assert q.dtype == np.int8 and scale.dtype == np.float16 and scale.shape == (factor.shape[0],)
            restored = q.astype(np.float32) * scale.astype(np.float32)[:, None]
            # half a quantisation step per entry, the step being each row's peak / 127
            step = np.abs(factor).max(axis=1, keepdims=True) / 127
            assert np.all(np.abs(restored - factor) <= 0.5 * step * 1.01 + 1e-7)


def test_a_student_with_fp16_factors_still_loads(folder: Path) -> None:
    student = _trained_student(folder)
    deltas = low_rank_deltas(folder, student, LAYERS, 384)
    fp16 = {
        **deltas.tensors(),
        **{
            PREFIX + n: p.detach().numpy().astype(np.float16)
            for n, p in student.named_parameters()
            if kept_parameter(n)
        },
    }
    loaded = load_student(folder, StudentWeights(fp16, LAYERS))

    cosine = (_embed(loaded, folder) * _embed(student, folder)).sum(dim=-1)
    assert float(cosine.min()) > 0.999


@pytest.mark.parametrize(
    ("damage", "message"), [("missing", "has no scale"), ("not a number", "has a scale that is not a number")]
)
def test_an_int8_factor_without_its_scales_is_refused(folder: Path, damage: str, message: str) -> None:
    student = _trained_student(folder)
    tensors = student_tensors(student, low_rank_deltas(folder, student, LAYERS, COMPRESS_RANK))
    factor = "lora.encoder.layer.1.intermediate.dense.b"
    if damage == "missing":
        del tensors[SCALE_PREFIX + factor]
    else:
        tensors[SCALE_PREFIX + factor] = tensors[SCALE_PREFIX + factor].copy()
        tensors[SCALE_PREFIX + factor][7] = np.nan

    with pytest.raises(ValueError, match=re.escape(f"int8 factor {factor} {message}")):
        load_student(folder, StudentWeights(tensors, LAYERS))


def test_the_shipped_rank_keeps_the_student_close_and_the_file_small(folder: Path) -> None:
    student = _trained_student(folder)
    stored = student_tensors(student, low_rank_deltas(folder, student, LAYERS, COMPRESS_RANK))

    assert sum(v.nbytes for v in stored.values()) < FIVE_MB
    # no linear layer's weight is stored whole: each is a pair of low-rank factors
    assert not any(k.endswith("dense.weight") or k.endswith("query.weight") for k in stored)
    assert {v.shape[0] for k, v in stored.items() if k.endswith(".a")} == {COMPRESS_RANK}
    loaded = load_student(folder, StudentWeights(stored, LAYERS))
    cosine = (_embed(loaded, folder) * _embed(student, folder)).sum(dim=-1)
    assert float(cosine.mean()) > 0.95


def test_the_shipped_student_file_is_small_and_complete(folder: Path) -> None:
    assert STUDENT_FILE.stat().st_size < FIVE_MB
    with safe_open(str(STUDENT_FILE), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    tensors = load_file(str(STUDENT_FILE))
    student = StudentWeights.of(tensors, meta)
    shape = SHAPES["narrow"]
    assert student.layers == shape.layers
    assert student.widths is not None
    assert {(len(w.heads), len(w.units)) for w in student.widths.values()} == {(shape.heads, shape.units)}
    assert f"delta rank={COMPRESS_RANK}" in meta["student_recipe"]
    loaded = load_student(folder, student)  # every delta and every bias and norm present
    linear = ("dense.weight", "query.weight", "key.weight", "value.weight")
    encoder_weights = sum(
        p.numel() for n, p in loaded.named_parameters() if n.startswith("encoder.") and n.endswith(linear)
    )
    assert encoder_weights == 12 * (4 * 384 * 192 + 2 * 384 * 768)  # as many as six whole layers'
    assert encoder_weights == 6 * (4 * 384 * 384 + 2 * 384 * 1536)


def _shipped() -> StudentWeights:
    with safe_open(str(STUDENT_FILE), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    return StudentWeights.of(load_file(str(STUDENT_FILE)), meta)


def test_a_student_missing_a_delta_is_refused_with_a_clear_error(folder: Path) -> None:
    shipped = _shipped()
    tensors = {k: v for k, v in shipped.tensors.items() if "layer.3.attention.self.key" not in k}

    with pytest.raises(ValueError, match="does not hold a delta for every adapted layer"):
        load_student(folder, StudentWeights(tensors, shipped.layers))


def test_a_student_of_the_old_whole_weight_format_is_refused(folder: Path) -> None:
    whole = {
        f"student.encoder.layer.{j}.attention.self.query.weight": np.zeros((384, 384), np.float16)
        for j in range(len(LAYERS))
    }
    with pytest.raises(ValueError, match="delta"):
        load_student(folder, StudentWeights(whole, LAYERS))


@pytest.mark.parametrize(
    ("layers", "message"),
    [("0,2,x", "not a list of layer numbers"), ("…,99", "not layers of a 12-layer encoder")],
)
def test_a_student_naming_layers_the_encoder_lacks_is_refused(
    folder: Path, layers: str, message: str
) -> None:
    shipped = _shipped()
    tensors = shipped.tensors
    layers = layers.replace("…", ",".join(str(i) for i in shipped.layers[:-1]))  # as many as it holds
    with pytest.raises(ValueError, match=message):
        load_student(folder, StudentWeights.of(tensors, {"student_layers": layers}))
