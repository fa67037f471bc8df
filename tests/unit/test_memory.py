"""The correction memory: agents' labels hold for the corrected mentions and their copies only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from sentiment.memory import CorrectionMemory, normalise
from sentiment.model import LABELS, Head
from sentiment.training.finetune import save_model

NEG, NEU, POS = (LABELS.index(x) for x in ("negative", "neutral", "positive"))


def test_a_copy_takes_the_agents_label_and_a_different_post_keeps_the_models() -> None:
    memory = CorrectionMemory.build(
        ["@united my bag is lost AGAIN http://t.co/x1", "Доставили вовремя, спасибо"], [NEG, POS]
    )
    texts = [
        "@UnitedAirlines  my bag is lost, again! https://t.co/zz9",  # a repost with another handle and link
        "my bag is lost",  # other words: the model decides
        "Доставили вовремя спасибо!!",
    ]
    model_probs = np.array([[0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.3, 0.4, 0.3]])

    out = memory.apply(texts, model_probs)

    assert out[0].tolist() == [1.0, 0.0, 0.0]
    assert out[1].tolist() == model_probs[1].tolist()
    assert out[2].tolist() == [0.0, 0.0, 1.0]
    assert model_probs[0].tolist() == [0.1, 0.8, 0.1]  # the caller's array is left alone


def test_the_latest_correction_of_a_text_wins() -> None:
    memory = CorrectionMemory.build(["late again", "Late again!"], [NEU, NEG])
    assert memory.label_of("late again") == NEG
    assert len(memory) == 1


def test_normalise_keeps_the_words_only() -> None:
    assert normalise("  @bob Ужас!!! www.shop.ru/x  Ждём\n3 дня ") == "ужас ждём 3 дня"


def test_an_empty_memory_changes_nothing() -> None:
    memory = CorrectionMemory.build([], [])
    probs = np.array([[0.2, 0.3, 0.5]])
    assert memory.apply(["anything"], probs) is probs


def test_the_memory_travels_in_the_model_file_without_the_texts(tmp_path: Path) -> None:
    texts = ["ужасный сервис", "great support, thanks", "where is my order"]
    memory = CorrectionMemory.build(texts, [NEG, POS, NEU])
    head = Head((np.zeros((3, 16), dtype=np.float32),), (np.zeros(3, dtype=np.float32),))
    path = tmp_path / "model.safetensors"

    save_model(path, head, None, {"seed": "0"}, memory)
    loaded = CorrectionMemory.from_tensors(load_file(str(path)))

    assert loaded == memory
    assert [loaded.label_of(t) for t in texts] == [NEG, POS, NEU]
    assert "ужасный".encode() not in path.read_bytes()
    assert CorrectionMemory.from_tensors({}) is None
