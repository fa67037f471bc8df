"""Small, seeded subsets of the real labelled data sets, for tests that train or evaluate the model.

`write_subset` copies every file that `sentiment.training.datasets` reads from the data folder
(`MD_DATA_DIR`) into another folder, keeping at most `rows` rows of each, drawn at random with a
fixed seed, in the same file formats (the same CSV headers and columns, quoted line breaks and all;
TweetEval's two line-aligned text files), so the real loaders, hold-outs and recipes run on them
unchanged, only on fewer rows.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path

import numpy as np

# file -> its text column (RuSentiTweet, OpenSentimentCorpus, airline tweets)
CSV_FILES = {
    "rusentitweet/rusentitweet_train.csv": "text",
    "rusentitweet/rusentitweet_test.csv": "text",
    "opensentimentcorpus/opensentimentcorpus-final-by-majority.csv": "Sentence",
    "twitter-us-airline-sentiment/Tweets.csv": "text",
}
TWEETEVAL = "tweeteval-sentiment"


def _pick(n: int, rows: int, rng: np.random.Generator) -> list[int]:
    """At most `rows` of `n` indices, seeded, in file order."""
    return sorted(int(i) for i in rng.permutation(n)[:rows])


def write_subset(
    source: Path, target: Path, rows: int, *, seed: int = 0, exclude: Collection[str] = ()
) -> Path:
    """`target` with at most `rows` rows of each labelled file in `source`; rows whose text is in
    `exclude` are left out (so texts a test uses otherwise are in neither training nor hold-out)."""
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    for name, text_column in CSV_FILES.items():
        with (source / name).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            column = header.index(text_column)
            body = [row for row in reader if len(row) <= column or row[column] not in excluded]
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body[i] for i in _pick(len(body), rows, rng))

    # TweetEval: line i of val_labels.txt labels line i of val_text.txt (read as the loader reads them)
    folder = source / TWEETEVAL
    codes = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    lines = (folder / "val_text.txt").read_text(encoding="utf-8").split("\n")[: len(codes)]
    pairs = [(line, code) for line, code in zip(lines, codes, strict=True) if line.strip() not in excluded]
    kept = [pairs[i] for i in _pick(len(pairs), rows, rng)]
    out_folder = target / TWEETEVAL
    out_folder.mkdir(parents=True, exist_ok=True)
    (out_folder / "val_text.txt").write_text("".join(f"{line}\n" for line, _ in kept), encoding="utf-8")
    (out_folder / "val_labels.txt").write_text("".join(f"{code}\n" for _, code in kept), encoding="utf-8")
    return target
