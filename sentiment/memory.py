"""The correction memory: what agents said about a mention holds for that mention and its near-copies.

A retrain teaches the weights from agents' corrections, but a few hundred rows only move a model so
far, and pushing harder costs accuracy everywhere else. So a retrained model also carries the
corrections themselves, and a mention that is a copy or a near-copy of a corrected one takes the
agent's label with certainty; every other mention is scored by the weights alone.

Two rules, the first that holds decides:

* exact: the same words once case, links, @handles, punctuation, emoji and spacing are set aside
  (a repost with another link, the same review with other punctuation);
* near-copy, for a corrected text of at least `MIN_WORDS` words, on its word trigrams (hashed) and
  the model's own L2-normalised embeddings of both texts:
  - at least `CONTAINED` (70%) of the corrected text's trigrams are in the mention, they make at
    least `SHARE` (half) of the mention's (the mention is mostly the corrected text, not a longer
    post quoting it), and the embeddings' cosine is at least `COSINE_FLOOR` (0.5: below it, the
    added words changed what the model reads, as a quote whose comment has a sentiment of its own);
  - or, for a copy with more words changed, at least `LOOSE_CONTAINED` (40%) and `LOOSE_SHARE`
    (30%) of them with a cosine of at least `COSINE` (0.92).
  When several corrected texts qualify, the closest by cosine decides.

Neither signal is enough alone. Embeddings: among 2.5 million pairs of different real posts the
cosine reaches 0.935 (0.74 at the 99th percentile), while a quote ("<comment> <text>") has a cosine
to its text of 0.82 at the median and under 0.33 one time in twenty: the comment moves it. Shared
words: on short texts a few trigrams decide, and "outstanding customer service! Thank you!" shares
two of its three with "Wow--great customer service @AlaskaAir! Thank you!" (cosine 0.906: the looser
branch's 0.92 keeps it out).

Measured (`python -m bench.memory_near_copies`) with 500 real posts of the data sets (RuSentiTweet,
OpenSentimentCorpus, TweetEval, airline tweets, customer-support tweets; 4 words or more) as the
corrected texts and the built-in model's embeddings. Share of constructed near-copies that match:
a repost with another link 100% (the exact rule alone: 100%), "RT @user: <text>" 100%, a retweet
cut to 80% of its words with "…" 80.4%, "<a real short post as comment> <text>" 79.6% (quoted in
“…”: 75.8%), "<text> via @x" 100%, the same review with other end punctuation, an emoji and a
signature 99.2%, with one word dropped or misspelt 89.4%; 90.8% of 3,905 near-copies in all (the
exact rule alone: 13%). False matches: of 5,000 other real posts (2.5 million pairs) none took a
corrected label; over all 34,115 other distinct posts of the data (17 million pairs, words only,
embeddings where the words qualify) 6 pairs matched, and all 6 are real near-copies in the data: a
news headline from other outlets (3 pairs), a tweet sent again to another airline, a promotion
retweeted, "@united that would be great" and "... that would be great - 1k us651621". The quotes
that do not match have a comment as long as the text or one the model reads differently.
A corrected text of under `MIN_WORDS` words ("спасибо!", "thanks a lot"; 10% of the data's posts)
matches exactly only: such texts are many, and a few shared words say nothing about the rest.

Stored in the model file, no customer text kept: `memory.keys` (16-byte BLAKE2b digests of the
normalised texts) and `memory.labels`; a retrain adds `memory.vectors` (float16 embeddings) and
`memory.shingles` (8-byte BLAKE2b digests of the word trigrams, as int64) with
`memory.shingle_offsets` (where each text's digests start). A file without the last three (a model
retrained before they existed) matches exactly only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

KEYS = "memory.keys"
LABELS_KEY = "memory.labels"
VECTORS = "memory.vectors"
SHINGLES = "memory.shingles"
SHINGLE_OFFSETS = "memory.shingle_offsets"
DIGEST_BYTES = 16

SHINGLE_WORDS = 3
"""Words per shingle."""
MIN_WORDS = 4
"""Corrected texts shorter than this match exactly only."""
CONTAINED = 0.7
"""Share of the corrected text's trigrams that must be in the mention."""
SHARE = 0.5
"""Share of the mention's trigrams that must be the corrected text's."""
COSINE_FLOOR = 0.5
"""Least cosine of the two embeddings with `CONTAINED` and `SHARE`."""
LOOSE_CONTAINED = 0.4
LOOSE_SHARE = 0.3
COSINE = 0.92
"""Least cosine with only `LOOSE_CONTAINED` and `LOOSE_SHARE` of the trigrams."""

_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_NOT_WORD = re.compile(r"[\W_]+")

F16Array = npt.NDArray[np.float16]
F32Array = npt.NDArray[np.float32]


def normalise(text: str) -> str:
    """The words of a post: lower case, without links, @handles, punctuation or extra spaces."""
    text = _HANDLE.sub(" ", _LINK.sub(" ", text.casefold()))
    return _NOT_WORD.sub(" ", text).strip()


def text_key(text: str) -> bytes:
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=DIGEST_BYTES).digest()


def shingles(text: str, min_words: int = MIN_WORDS) -> frozenset[int]:
    """Digests of the word trigrams of `text` (empty below `min_words` words)."""
    words = normalise(text).split()
    if len(words) < max(min_words, SHINGLE_WORDS):
        return frozenset()
    n = SHINGLE_WORDS
    grams = (" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1))
    return frozenset(
        int.from_bytes(hashlib.blake2b(g, digest_size=8).digest(), "little", signed=True) for g in grams
    )


def is_near_copy(contained: float, share: float, cosine: float) -> bool:
    """The near-copy rule on a pair: the share of the corrected text's trigrams in the mention, the
    share of the mention's that are the corrected text's, and the cosine of their embeddings."""
    return (contained >= CONTAINED and share >= SHARE and cosine >= COSINE_FLOOR) or (
        contained >= LOOSE_CONTAINED and share >= LOOSE_SHARE and cosine >= COSINE
    )


class CorrectionMemory:
    """Corrected texts' keys and agents' labels; with `vectors` and `shingles`, near-copies too."""

    def __init__(
        self,
        keys: Sequence[bytes],
        labels: Sequence[int],  # indices into sentiment.model.LABELS
        vectors: F16Array | None = None,
        shingles: Sequence[frozenset[int]] | None = None,
    ) -> None:
        if len(keys) != len(labels):
            raise ValueError(f"{len(keys)} keys but {len(labels)} labels")
        if (vectors is None) != (shingles is None):
            raise ValueError("near-copy matching needs both the vectors and the shingles")
        if vectors is not None and shingles is not None and not len(vectors) == len(shingles) == len(keys):
            raise ValueError(f"{len(keys)} keys, {len(vectors)} vectors, {len(shingles)} shingle sets")
        self.keys = tuple(keys)
        self.labels = tuple(int(label) for label in labels)
        self.vectors = None if vectors is None else np.asarray(vectors, dtype=np.float16)
        self.shingles = None if shingles is None else tuple(shingles)
        # The latest correction of a text wins, for its copies and its near-copies alike.
        latest = {key: row for row, key in enumerate(self.keys)}
        self._index = {key: self.labels[row] for key, row in latest.items()}
        # Near-copy candidates: the latest correction of each text with enough words; by trigram.
        self._by_shingle: dict[int, list[int]] = {}
        for row in sorted(latest.values()):
            for gram in self.shingles[row] if self.shingles else ():
                self._by_shingle.setdefault(gram, []).append(row)

    @classmethod
    def build(
        cls, texts: Sequence[str], labels: Sequence[int], vectors: F32Array | None = None
    ) -> CorrectionMemory:
        """The memory of corrected `texts`; with their embeddings by the model that will use it,
        near-copies match too."""
        keys = [text_key(t) for t in texts]
        if vectors is None:
            return cls(keys, labels)
        return cls(keys, labels, np.asarray(vectors, dtype=np.float16), [shingles(t) for t in texts])

    def __len__(self) -> int:
        return len(self._index)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CorrectionMemory):
            return NotImplemented
        if (self.keys, self.labels, self.shingles) != (other.keys, other.labels, other.shingles):
            return False
        if self.vectors is None or other.vectors is None:
            return self.vectors is None and other.vectors is None
        return bool(np.array_equal(self.vectors, other.vectors))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    @property
    def matches_near_copies(self) -> bool:
        return bool(self._by_shingle)

    def label_of(self, text: str, vector: F32Array | None = None) -> int | None:
        """The agent's label for `text`, a copy or (given its embedding `vector`) a near-copy of a
        corrected text, or None when none matches."""
        if not self._index:
            return None
        exact = self._index.get(text_key(text))
        if exact is not None or vector is None or not self.matches_near_copies:
            return exact
        return self._near_copy_label(text, vector)

    def _near_copy_label(self, text: str, vector: F32Array) -> int | None:
        assert self.vectors is not None and self.shingles is not None
        grams = shingles(text, min_words=SHINGLE_WORDS)
        counts: dict[int, int] = {}
        for gram in grams:
            for row in self._by_shingle.get(gram, ()):
                counts[row] = counts.get(row, 0) + 1
        if not counts:
            return None
        rows = list(counts)
        cosines = self.vectors[rows].astype(np.float32) @ np.asarray(vector, dtype=np.float32)
        best: tuple[float, int] | None = None
        for row, cosine in zip(rows, cosines.tolist(), strict=True):
            contained, share = counts[row] / len(self.shingles[row]), counts[row] / len(grams)
            if is_near_copy(contained, share, cosine) and (best is None or cosine > best[0]):
                best = (cosine, row)
        return None if best is None else self.labels[best[1]]

    def labels_for(self, texts: Sequence[str], x: F32Array | None = None) -> list[int | None]:
        """`label_of` each text (with its row of embeddings `x`, when given)."""
        return [self.label_of(t, None if x is None else x[i]) for i, t in enumerate(texts)]

    def apply(
        self, texts: Sequence[str], probs: npt.NDArray[np.float64], x: F32Array | None = None
    ) -> npt.NDArray[np.float64]:
        """`probs` with every corrected mention, copy or (given embeddings `x`) near-copy set to its
        agent's label."""
        found = self.labels_for(texts, x)
        if all(label is None for label in found):
            return probs
        out = probs.copy()
        for row, label in enumerate(found):
            if label is not None:
                out[row] = 0.0
                out[row, label] = 1.0
        return out

    def tensors(self) -> dict[str, npt.NDArray[Any]]:
        keys = np.frombuffer(b"".join(self.keys), dtype=np.uint8).reshape(len(self.keys), DIGEST_BYTES)
        out: dict[str, npt.NDArray[Any]] = {
            KEYS: np.ascontiguousarray(keys),
            LABELS_KEY: np.asarray(self.labels, dtype=np.int64),
        }
        if self.vectors is not None and self.shingles is not None:
            ordered = [sorted(s) for s in self.shingles]
            out[VECTORS] = np.ascontiguousarray(self.vectors, dtype=np.float16)
            out[SHINGLES] = np.array([g for s in ordered for g in s], dtype=np.int64)
            out[SHINGLE_OFFSETS] = np.cumsum([0, *(len(s) for s in ordered)], dtype=np.int64)
        return out

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, npt.NDArray[Any]]) -> CorrectionMemory | None:
        """The memory in a model file, or None when it has none."""
        if KEYS not in tensors:
            return None
        keys = [bytes(row.tobytes()) for row in np.asarray(tensors[KEYS], dtype=np.uint8)]
        labels = [int(v) for v in tensors[LABELS_KEY]]
        if VECTORS not in tensors:
            return cls(keys, labels)
        flat, ends = tensors[SHINGLES], tensors[SHINGLE_OFFSETS]
        grams = [frozenset(int(g) for g in flat[ends[i] : ends[i + 1]]) for i in range(len(keys))]
        return cls(keys, labels, np.asarray(tensors[VECTORS], dtype=np.float16), grams)
