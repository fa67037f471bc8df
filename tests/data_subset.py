"""Small, seeded subsets of the real labelled data sets, for tests that train or evaluate the model.

`write_subset` writes every file that `sentiment.training.datasets` reads from the data folder
(`MD_DATA_DIR`) into another folder with at most `rows` rows of each, in the same file formats (the
same CSV headers and columns, quoted line breaks and all; TweetEval's two line-aligned text files),
so the real loaders, hold-outs and recipes run on them unchanged, only on fewer rows.

The subset keeps the parts honest. Held-out and validation rows are chosen by row position, so a
plain random subset would put rows the shipped model trained on into the parts it is judged on.
Instead, the positions the loaders and the recipe will give each part are worked out first (they
depend only on the sequence of labels), and each position is then filled with a row of the same
label from the same part of the full data: the subset's test rows are full test rows, its
validation rows full validation rows, its training rows full training rows. A model made on the
full data has therefore never trained on the subset's test or validation rows, which is what lets
a test record the subset's fingerprints in a copy of that model (`record_fingerprints`).
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from schemas.scored import SentimentLabel
from sentiment.training.datasets import (
    BENCHMARKS,
    Benchmark,
    LabelledSet,
    holdout_indices,
    load_benchmarks,
)
from sentiment.training.finetune import TRAIN_SETS, recipe_split

TWEETEVAL = "tweeteval-sentiment"
OSC = "opensentimentcorpus/opensentimentcorpus-final-by-majority.csv"
TWEETEVAL_LABELS: dict[str, SentimentLabel] = {"0": "negative", "1": "neutral", "2": "positive"}
VALID = frozenset(TWEETEVAL_LABELS.values())


@dataclass(frozen=True)
class CsvFile:
    path: str
    text: str  # column
    label: str  # column
    bench: str
    official: str | None = None  # "train" or "test": the file is that whole part (RuSentiTweet)


CSV_FILES = (
    CsvFile("rusentitweet/rusentitweet_train.csv", "text", "label", "rusentitweet", "train"),
    CsvFile("rusentitweet/rusentitweet_test.csv", "text", "label", "rusentitweet", "test"),
    CsvFile(OSC, "Sentence", "Sentiment", "opensentimentcorpus"),
    CsvFile("twitter-us-airline-sentiment/Tweets.csv", "text", "airline_sentiment", "airline"),
)


@dataclass
class _File:
    """One labelled file: its rows as the loader keeps them, and how to write a selection back."""

    key: str
    bench: str
    official: str | None
    texts: list[str]
    labels: list[SentimentLabel]
    records: list[list[str]]  # the raw CSV row, or [line, code] for TweetEval
    header: list[str] | None  # None: TweetEval


def _read_csv(source: Path, spec: CsvFile) -> _File:
    """The rows the loader keeps (a known label and a non-blank text), with their raw CSV rows."""
    with (source / spec.path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(reader)
    t, lab = header.index(spec.text), header.index(spec.label)
    kept = [r for r in records if len(r) > max(t, lab) and r[lab].strip().lower() in VALID and r[t].strip()]
    return _File(
        spec.path,
        spec.bench,
        spec.official,
        [r[t] for r in kept],
        [cast(SentimentLabel, r[lab].strip().lower()) for r in kept],
        kept,
        header,
    )


def _read_tweeteval(source: Path) -> _File:
    folder = source / TWEETEVAL
    codes = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    lines = (folder / "val_text.txt").read_text(encoding="utf-8").split("\n")[: len(codes)]
    return _File(
        TWEETEVAL,
        "tweeteval",
        None,
        [line.strip() for line in lines],
        [TWEETEVAL_LABELS[c] for c in codes],
        [[line, code] for line, code in zip(lines, codes, strict=True)],
        None,
    )


def _benches(files: Sequence[_File], texts: Sequence[list[str]]) -> list[Benchmark]:
    """The benchmarks the loaders make of `files` (with `texts` in place of their own)."""
    sets = {
        f.key: LabelledSet(f.bench, list(t), list(f.labels), "ru", "all")
        for f, t in zip(files, texts, strict=True)
    }
    out: dict[str, Benchmark] = {}
    for f in files:
        ds = sets[f.key]
        if f.official == "train":
            test_file = next(g for g in files if g.bench == f.bench and g.official == "test")
            out[f.bench] = Benchmark(f.bench, ds, sets[test_file.key])
        elif f.official is None:
            train, held = holdout_indices(ds)
            out[f.bench] = Benchmark(f.bench, ds.subset(train, "train"), ds.subset(held, "holdout"))
    return [out[name] for name in BENCHMARKS if name in out]


def _roles(
    files: Sequence[_File], texts: Sequence[list[str]], train_sets: Sequence[str], seed: int
) -> list[list[str]]:
    """Per file, each row's part: test, validation, train, or unused (not in the recipe's pool)."""
    benches = _benches(files, texts)
    trained, dev = recipe_split(benches, train_sets, seed)
    in_train = {(e.group, e.text) for e in trained}
    in_dev = {(e.group, e.text) for e in dev}
    roles: list[list[str]] = []
    for f, t in zip(files, texts, strict=True):
        if f.official == "test":
            roles.append(["test"] * len(t))
            continue
        held = (
            set(holdout_indices(LabelledSet(f.bench, t, list(f.labels), "ru", "all"))[1])
            if f.official is None
            else set()
        )
        roles.append(
            [
                "test"
                if i in held
                else "train"
                if (f.bench, text) in in_train
                else "validation"
                if (f.bench, text) in in_dev
                else "unused"
                for i, text in enumerate(t)
            ]
        )
    return roles


def write_subset(
    source: Path,
    target: Path,
    rows: int,
    *,
    seed: int = 0,
    exclude: Collection[str] = (),
    test_rows: int | None = None,
    train_sets: Sequence[str] = TRAIN_SETS,
    recipe_seed: int = 0,
) -> Path:
    """`target` with at most `rows` rows of each labelled file in `source` (`test_rows` of a file that
    is an official test split, if given), each part drawn from the same part of the full data under
    the recipe (`train_sets`, `recipe_seed`; those of the shipped model by default); rows whose text
    is in `exclude` are left out (so texts a test uses otherwise are in no part)."""
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    files = [_read_csv(source, spec) for spec in CSV_FILES] + [_read_tweeteval(source)]
    full_roles = _roles(files, [f.texts for f in files], train_sets, recipe_seed)
    test_texts = {
        (f.bench, t)
        for f, r in zip(files, full_roles, strict=True)
        for t, role in zip(f.texts, r, strict=True)
        if role == "test"
    }
    trained_texts = {
        (f.bench, t)
        for f, r in zip(files, full_roles, strict=True)
        for t, role in zip(f.texts, r, strict=True)
        if role == "train"
    }

    # The subset's label sequences: `rows` rows of each file at random, in file order.
    sizes = [test_rows if f.official == "test" and test_rows is not None else rows for f in files]
    picks = [
        sorted(int(i) for i in rng.permutation(len(f.texts))[:size])
        for f, size in zip(files, sizes, strict=True)
    ]
    labelled = [
        _File(f.key, f.bench, f.official, [], [f.labels[i] for i in pick], [], f.header)
        for f, pick in zip(files, picks, strict=True)
    ]
    placeholders = [[f"{f.key}#{i}" for i in range(len(f.labels))] for f in labelled]
    roles = _roles(labelled, placeholders, train_sets, recipe_seed)

    for f, full, subset_roles in zip(files, full_roles, roles, strict=True):
        # Candidates by (part, label), never a text that is also in another part (duplicates), nor excluded.
        pools: dict[tuple[str, str], list[int]] = {}
        for i, (text, label, role) in enumerate(zip(f.texts, f.labels, full, strict=True)):
            key = (f.bench, text)
            if text in excluded or text.strip() in excluded:
                continue
            if (role != "test" and key in test_texts) or (role != "train" and key in trained_texts):
                continue
            pools.setdefault((role, label), []).append(i)
        for pool in pools.values():
            rng.shuffle(pool)
        chosen: list[int] = []
        sub = next(g for g in labelled if g.key == f.key)
        for label, role in zip(sub.labels, subset_roles, strict=True):
            pool = pools.get((role, label)) or (pools.get(("train", label), []) if role == "unused" else [])
            if not pool:
                raise ValueError(f"{f.key}: not enough {role} rows labelled {label} for a subset of {rows}")
            chosen.append(pool.pop())
        _write(target, f, chosen)
    _check(source, target, train_sets, recipe_seed)
    return target


def _write(target: Path, f: _File, chosen: Sequence[int]) -> None:
    if f.header is None:  # TweetEval: line i of val_labels.txt labels line i of val_text.txt
        folder = target / TWEETEVAL
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "val_text.txt").write_text(
            "".join(f"{f.records[i][0]}\n" for i in chosen), encoding="utf-8"
        )
        (folder / "val_labels.txt").write_text(
            "".join(f"{f.records[i][1]}\n" for i in chosen), encoding="utf-8"
        )
        return
    out = target / f.key
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(f.header)
        writer.writerows(f.records[i] for i in chosen)


def _check(source: Path, target: Path, train_sets: Sequence[str], seed: int) -> None:
    """Every part of the subset, as the real loaders and recipe make it, lies in the full data's part."""
    full, sub = load_benchmarks(source), load_benchmarks(target)
    full_train, full_dev = recipe_split(full, train_sets, seed)
    sub_train, sub_dev = recipe_split(sub, train_sets, seed)
    for part, small, big in (
        ("train", sub_train, full_train),
        ("validation", sub_dev, full_dev),
    ):
        outside = {(e.group, e.text) for e in small} - {(e.group, e.text) for e in big}
        if outside:
            raise AssertionError(f"{len(outside)} {part} rows of the subset are not in the full {part} part")
    for small_bench, big_bench in zip(sub, full, strict=True):
        if not set(small_bench.test.texts) <= set(big_bench.test.texts):
            raise AssertionError(f"{small_bench.name}: subset test rows outside the full test part")


def copy_data(source: Path, target: Path, files: Sequence[str]) -> Path:
    """`target` with a copy of each of `files` (paths relative to `source`)."""
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)
    return target


def shuffle_csv(path: Path, seed: int = 1) -> None:
    """Rewrite a CSV file with the same rows (header first) in another, seeded order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    random.Random(seed).shuffle(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
