"""The torch path's traced graph: the eager encoder's embeddings for every batch the worker makes,
for the whole model, its int8 form and a student; an encoder the tracer cannot follow still serves."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
import torch

from core.settings import Settings
from sentiment import model as model_module
from sentiment.encoder_build import ensure_encoder
from sentiment.model import E5Encoder
from sentiment.torch_graph import TracedEncoder, traced_or_eager
from tests.support import mixed_real_tweets, needs_data

HOSTILE = [
    "",
    "ok",
    "🔥" * 300,
    "Ѐ\u0301\u200b\u202e" * 50,
    "очень " * 400,  # cut at the serving max length
]
needs_tweets = needs_data("rusentitweet/rusentitweet_test.csv", "tweeteval-sentiment/val_text.txt")


def _eager(monkeypatch: pytest.MonkeyPatch, *args: Any, **kwargs: Any) -> E5Encoder:
    with monkeypatch.context() as patch:
        patch.setattr(model_module, "traced_or_eager", lambda model, *example: model)
        return E5Encoder(*args, **kwargs)


@needs_tweets
@pytest.mark.parametrize("quantize", [None, "int8"])
def test_the_traced_graph_embeds_as_the_eager_encoder_for_every_batch_shape(
    monkeypatch: pytest.MonkeyPatch, quantize: str | None
) -> None:
    folder = ensure_encoder(Settings().model_cache_dir)
    traced = E5Encoder(folder, 128, 32, 2, quantize=quantize)
    eager = _eager(monkeypatch, folder, 128, 32, 2, quantize=quantize)
    assert isinstance(traced.model, TracedEncoder)
    assert not isinstance(eager.model, TracedEncoder)

    texts = mixed_real_tweets(300) + HOSTILE
    # one take as the worker sends it (length-sorted batches of 32, widths 3 to 128), then batches
    # of 1, 5 and 64 texts
    for batch in (texts, texts[:1], HOSTILE, texts[:64]):
        ours, theirs = traced.embed(batch), eager.embed(batch)
        assert ours.shape == theirs.shape == (len(batch), 384)
        assert np.abs(ours - theirs).max() < 1e-5


@needs_tweets
def test_a_student_is_traced_and_embeds_as_its_eager_self(monkeypatch: pytest.MonkeyPatch) -> None:
    from safetensors.numpy import load_file

    from sentiment.model import Head
    from sentiment.student import STUDENT_FILE, StudentWeights

    if not STUDENT_FILE.is_file():
        pytest.skip("no student file beside the model")
    weights = StudentWeights.of(load_file(str(STUDENT_FILE)), Head.load(STUDENT_FILE).meta)
    folder = ensure_encoder(Settings().model_cache_dir)
    traced = E5Encoder(folder, 128, 32, 1, student=weights)
    eager = _eager(monkeypatch, folder, 128, 32, 1, student=weights)
    assert isinstance(traced.model, TracedEncoder)
    texts = mixed_real_tweets(64) + HOSTILE
    assert np.abs(traced.embed(texts) - eager.embed(texts)).max() < 1e-5


class _Untraceable(torch.nn.Module):
    """An encoder whose pass the tracer cannot follow (it branches on a tensor's value)."""

    config = object()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        if torch._C._get_tracing_state() is not None:  # being traced
            raise RuntimeError("data-dependent control flow")
        return input_ids


def test_an_encoder_the_tracer_cannot_follow_runs_eagerly_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = _Untraceable()
    ids = torch.ones((2, 4), dtype=torch.long)
    with caplog.at_level(logging.WARNING, logger="sentiment.torch_graph"):
        served = traced_or_eager(module, ids, ids)
    assert served is module
    assert "runs eagerly" in caplog.text and "data-dependent control flow" in caplog.text
