"""The correction memory: agents' labels hold for corrected mentions, their copies and near-copies only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
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


# ------------------------------------------------------------------ near-copies
# Real posts of the data sets (airline tweets, RuSentiTweet), corrected; the embeddings are stand-ins
# here (one direction for a text and its near-copies, another for the rest) so that these tests hold
# the word rule alone; tests/integration/test_memory_near_copies.py runs the rule with the model's
# own embeddings.
REVIEW = "@united my bag was lost on the flight to Denver and nobody at the desk could tell me where it is"
TWEET = "Ну почему так всегда, заказала доставку на утро, а курьер приехал только вечером https://t.co/Ab1"


def _unit(seed: int) -> npt.NDArray[np.float32]:
    v = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return v / np.linalg.norm(v)


CLOSE, FAR = _unit(1), _unit(2)
_ASIDE = FAR - (FAR @ CLOSE) * CLOSE
NEARBY = (0.8 * CLOSE + 0.6 * _ASIDE / np.linalg.norm(_ASIDE)).astype(np.float32)  # cosine 0.8 to CLOSE


def _memory() -> CorrectionMemory:
    return CorrectionMemory.build([REVIEW, TWEET, "thanks a lot!"], [POS, POS, NEG], np.stack([CLOSE] * 3))


def test_near_copies_take_the_agents_label() -> None:
    memory = _memory()
    near_copies = [
        f"RT @travel_news: {REVIEW}",  # a retweet
        "RT @anna: @united my bag was lost on the flight to Denver and nobody at the desk…",  # cut short
        f"Same thing happened to me. {REVIEW}",  # a quote with a short comment
        f"{REVIEW} via @airlinewatch",
        f"{REVIEW.replace('could', 'can')} 😡 -Mike",  # the same review again, a word changed, signed
        "Ну почему так всегда: заказала доставку на утро, а курьер приехал только вечером!! Ольга, Москва",
    ]
    assert memory.labels_for(near_copies, np.stack([CLOSE] * len(near_copies))) == [POS] * len(near_copies)


def test_other_posts_keep_the_models_score() -> None:
    memory = _memory()
    others = [
        "@united my bag was lost again",  # a few of the same words, another post
        # quoted in a longer post
        f"{REVIEW} and then they charged me a fee for the seat I never got, the crew was rude and "
        "the flight left two hours late; I am done with this airline after ten years",
        "thanks a lot for nothing",  # a short corrected text matches exactly only
    ]
    assert memory.labels_for(others, np.stack([NEARBY] * len(others))) == [None, None, None]
    # The same words, read differently by the model (a comment with a sentiment of its own): no match.
    assert memory.label_of(f"RT @travel_news: {REVIEW}", FAR) is None
    # A copy with more words changed needs embeddings closer than NEARBY's.
    edited = "@united my bag was lost on the flight to Denver, nobody at the gate can say where it went"
    assert memory.label_of(edited, NEARBY) is None
    assert memory.label_of(edited, CLOSE) == POS
    # Without the embeddings only copies match.
    assert memory.label_of(f"RT @travel_news: {REVIEW}") is None
    assert memory.label_of("Thanks a lot", FAR) == NEG


def test_near_copy_matching_travels_in_the_model_file(tmp_path: Path) -> None:
    memory = _memory()
    head = Head((np.zeros((3, 384), dtype=np.float32),), (np.zeros(3, dtype=np.float32),))
    path = tmp_path / "model.safetensors"

    save_model(path, head, None, {"seed": "0"}, memory)
    tensors = load_file(str(path))
    loaded = CorrectionMemory.from_tensors(tensors)

    assert loaded == memory and loaded is not None
    assert tensors["memory.vectors"].dtype == np.float16
    assert loaded.label_of(f"RT @travel_news: {REVIEW}", CLOSE) == POS
    raw = path.read_bytes()
    assert b"Denver" not in raw and "курьер".encode() not in raw


def test_a_memory_of_keys_only_still_loads_and_matches_copies() -> None:
    """A model file retrained before near-copies were kept: `memory.keys` and `memory.labels` only."""
    tensors = _memory().tensors()
    old = CorrectionMemory.from_tensors({k: tensors[k] for k in ("memory.keys", "memory.labels")})

    assert old is not None and len(old) == 3
    assert old.label_of(REVIEW.upper(), CLOSE) == POS
    assert old.label_of(f"RT @travel_news: {REVIEW}", CLOSE) is None
