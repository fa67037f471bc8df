"""Loaders for the labelled sets in the shared data folder (see each folder's SOURCE.txt).

Every loader returns a `LabelledSet` with labels in negative/neutral/positive. Files are read with
the csv module: several texts hold line breaks inside quoted fields. Sets without an official test
split get a fixed, seeded, stratified hold-out (`HOLDOUT_FRACTION`) that training never sees.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from schemas.mention import Language
from schemas.scored import SentimentLabel

HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 20240601  # fixed: the hold-out never depends on the training seed
_VALID: frozenset[str] = frozenset({"negative", "neutral", "positive"})


@dataclass(frozen=True)
class LabelledSet:
    """Texts with three-way labels from one source and split."""

    name: str
    texts: list[str]
    labels: list[SentimentLabel]
    language: Language
    split: str  # "train", "test" or "all"
    source_files: tuple[Path, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.labels))

    def subset(self, indices: Sequence[int], split: str) -> LabelledSet:
        return LabelledSet(
            self.name,
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            self.language,
            split,
            self.source_files,
        )

    def fingerprint(self) -> str:
        """Content hash (texts + labels): the key of cached embeddings and of reports."""
        h = hashlib.sha256()
        for text, label in zip(self.texts, self.labels, strict=True):
            h.update(text.encode("utf-8"))
            h.update(b"\x00" + label.encode() + b"\x01")
        return h.hexdigest()[:16]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _keep(
    rows: list[dict[str, str]], text_col: str, label_col: str
) -> tuple[list[str], list[SentimentLabel]]:
    texts: list[str] = []
    labels: list[SentimentLabel] = []
    for row in rows:
        label = (row.get(label_col) or "").strip().lower()
        text = row.get(text_col) or ""
        if label in _VALID and text.strip():
            texts.append(text)
            labels.append(label)  # type: ignore[arg-type]  # checked against _VALID
    return texts, labels


def load_rusentitweet(data_dir: Path, split: str) -> LabelledSet:
    """RuSentiTweet `train` or `test`; the skip and speech classes are dropped."""
    if split not in {"train", "test"}:
        raise ValueError(f"RuSentiTweet split is train or test, not {split!r}")
    path = data_dir / "rusentitweet" / f"rusentitweet_{split}.csv"
    texts, labels = _keep(_read_csv(path), "text", "label")
    return LabelledSet(f"rusentitweet-{split}", texts, labels, "ru", split, (path,))


def load_opensentimentcorpus(data_dir: Path) -> LabelledSet:
    """OpenSentimentCorpus, majority labels; mixed is dropped."""
    path = data_dir / "opensentimentcorpus" / "opensentimentcorpus-final-by-majority.csv"
    texts, labels = _keep(_read_csv(path), "Sentence", "Sentiment")
    return LabelledSet("opensentimentcorpus", texts, labels, "ru", "all", (path,))


def load_tweeteval(data_dir: Path) -> LabelledSet:
    """TweetEval sentiment, validation split (line i of val_labels.txt labels line i of val_text.txt)."""
    folder = data_dir / "tweeteval-sentiment"
    text_path, label_path = folder / "val_text.txt", folder / "val_labels.txt"
    names: dict[str, SentimentLabel] = {"0": "negative", "1": "neutral", "2": "positive"}
    lines = text_path.read_text(encoding="utf-8").split("\n")
    codes = label_path.read_text(encoding="utf-8").split()
    lines = lines[: len(codes)]
    if len(lines) != len(codes):
        raise ValueError(f"{text_path}: {len(lines)} texts for {len(codes)} labels")
    texts = [t.strip() for t in lines]
    labels = [names[c] for c in codes]
    return LabelledSet("tweeteval-val", texts, labels, "en", "all", (text_path, label_path))


def load_airline(data_dir: Path) -> LabelledSet:
    """Twitter US Airline Sentiment (text + airline_sentiment only: ids and dates are damaged)."""
    path = data_dir / "twitter-us-airline-sentiment" / "Tweets.csv"
    texts, labels = _keep(_read_csv(path), "text", "airline_sentiment")
    return LabelledSet("airline", texts, labels, "en", "all", (path,))


def holdout_indices(ds: LabelledSet, fraction: float = HOLDOUT_FRACTION) -> tuple[list[int], list[int]]:
    """Row positions of (train part, held-out part): stratified by label, seeded by HOLDOUT_SEED.

    Chosen by position: the same file in another order, or a part of it, gives other held-out rows.
    That is why a model file records its data's fingerprints (`sentiment.training.fingerprints`).
    """
    rng = np.random.default_rng(HOLDOUT_SEED)
    held: list[int] = []
    for label in sorted(set(ds.labels)):
        idx = np.array([i for i, lab in enumerate(ds.labels) if lab == label])
        rng.shuffle(idx)
        held.extend(int(i) for i in idx[: round(len(idx) * fraction)])
    held_set = set(held)
    return [i for i in range(len(ds)) if i not in held_set], sorted(held_set)


def holdout_split(ds: LabelledSet, fraction: float = HOLDOUT_FRACTION) -> tuple[LabelledSet, LabelledSet]:
    """(train part, held-out part): stratified by label, seeded by HOLDOUT_SEED, so always the same."""
    train, held = holdout_indices(ds, fraction)
    return ds.subset(train, "train"), ds.subset(held, "holdout")


def subsample_indices(ds: LabelledSet, size: int | None) -> list[int]:
    """At most `size` row indices, stratified by label, always the same ones (fixed seed)."""
    if size is None or size >= len(ds):
        return list(range(len(ds)))
    rng = np.random.default_rng(HOLDOUT_SEED + 1)
    keep: list[int] = []
    for label in sorted(set(ds.labels)):
        idx = np.array([i for i, lab in enumerate(ds.labels) if lab == label])
        rng.shuffle(idx)
        keep.extend(int(i) for i in idx[: round(len(idx) * size / len(ds))])
    return sorted(keep)


@dataclass(frozen=True)
class Benchmark:
    """One data set's training part and its test part (official test split or fixed hold-out)."""

    name: str
    train: LabelledSet
    test: LabelledSet


def _split_set(name: str, loader: Callable[[Path], LabelledSet]) -> Callable[[Path], Benchmark]:
    def load(data_dir: Path) -> Benchmark:
        train, test = holdout_split(loader(data_dir))
        return Benchmark(name, train, test)

    return load


def _rusentitweet(data_dir: Path) -> Benchmark:
    return Benchmark(
        "rusentitweet", load_rusentitweet(data_dir, "train"), load_rusentitweet(data_dir, "test")
    )


BENCHMARKS: dict[str, Callable[[Path], Benchmark]] = {
    "rusentitweet": _rusentitweet,
    "opensentimentcorpus": _split_set("opensentimentcorpus", load_opensentimentcorpus),
    "tweeteval": _split_set("tweeteval", load_tweeteval),
    "airline": _split_set("airline", load_airline),
}


def load_benchmarks(data_dir: Path, names: Sequence[str] | None = None) -> list[Benchmark]:
    """Every labelled set (or those named) as train/test parts."""
    chosen = list(names) if names is not None else list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown data sets {unknown}; known: {sorted(BENCHMARKS)}")
    return [BENCHMARKS[n](Path(data_dir)) for n in chosen]
