"""The correction memory: what agents said about a mention holds for that mention and its copies.

A retrain teaches the weights from agents' corrections, but a few hundred rows only move a model so
far, and pushing harder costs accuracy everywhere else. So a retrained model also carries the
corrections themselves: a key per corrected text with the agent's label. A mention whose key matches
(the same words once case, links, @handles, punctuation and spacing are set aside: a repost, the
same review with another link) takes the agent's label with certainty; every other mention is scored
by the weights alone.

Stored in the model file as `memory.keys` (16-byte BLAKE2b digests of the normalised texts, so no
customer text is kept) and `memory.labels`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

KEYS = "memory.keys"
LABELS_KEY = "memory.labels"
DIGEST_BYTES = 16

_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The words of a post: lower case, without links, @handles, punctuation or extra spaces."""
    text = _HANDLE.sub(" ", _LINK.sub(" ", text.casefold()))
    return _NOT_WORD.sub(" ", text).strip()


def text_key(text: str) -> bytes:
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=DIGEST_BYTES).digest()


@dataclass(frozen=True)
class CorrectionMemory:
    keys: tuple[bytes, ...]
    labels: tuple[int, ...]  # indices into sentiment.model.LABELS
    _index: dict[bytes, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.labels):
            raise ValueError(f"{len(self.keys)} keys but {len(self.labels)} labels")
        # The latest correction of a text wins.
        object.__setattr__(
            self, "_index", {k: label for k, label in zip(self.keys, self.labels, strict=True)}
        )

    @classmethod
    def build(cls, texts: Sequence[str], labels: Sequence[int]) -> CorrectionMemory:
        return cls(tuple(text_key(t) for t in texts), tuple(int(label) for label in labels))

    def __len__(self) -> int:
        return len(self._index)

    def label_of(self, text: str) -> int | None:
        """The agent's label for `text` or a copy of it, or None when no agent corrected it."""
        return self._index.get(text_key(text)) if self._index else None

    def apply(self, texts: Sequence[str], probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """`probs` with every corrected mention (or copy) set to its agent's label."""
        found = [self.label_of(t) for t in texts]
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
        return {KEYS: np.ascontiguousarray(keys), LABELS_KEY: np.asarray(self.labels, dtype=np.int64)}

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, npt.NDArray[Any]]) -> CorrectionMemory | None:
        """The memory in a model file, or None when it has none."""
        if KEYS not in tensors:
            return None
        keys = tuple(bytes(row.tobytes()) for row in np.asarray(tensors[KEYS], dtype=np.uint8))
        return cls(keys, tuple(int(v) for v in tensors[LABELS_KEY]))
