"""`python -m bench.memory_near_copies`: how often the correction memory's near-copy rule matches a
near-copy of a corrected post, and how often it matches a post that is not one (sentiment/memory.py).

Real posts of the data folder (`MD_DATA_DIR`): RuSentiTweet (both parts), OpenSentimentCorpus,
TweetEval's validation texts, airline tweets and the customers' tweets of the customer-support
sample, each distinct text once (distinct normalised words), in a seeded order. The first `CORRECTED`
posts of 4 words or more play the corrected mentions; each gets near-copies built as they appear on
the networks (`near_copies`); `OTHERS` other posts, with the built-in model's embeddings, must take
no corrected label; and every other post of the data is checked by its words first, the embeddings
computed only for the pairs whose words qualify. Embeddings are kept on disk by model version and
content (as `model retrain` keeps them), so a second run only matches.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.settings import Settings
from sentiment.memory import CorrectionMemory, is_near_copy, normalise, shingles
from sentiment.model import load_builtin
from sentiment.training.retrain import embed_cached

CORRECTED = 500
OTHERS = 5000
COMMENTS = 3000  # posts at the end of the order that give the quotes their comments
SIGNATURES = ("\n\n— Анна К.", " -John", "\n\nОльга, Москва", " Thanks, Mike", " ^MK", " — отзыв с сайта")
ENDINGS = ("😡", "🙏", "👍", "🤬", "!!!", "...")
_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def _csv_texts(path: Path, column: str, keep: str | None = None) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [
            r[column]
            for r in csv.DictReader(f)
            if (r.get(column) or "").strip() and (keep is None or r.get("inbound") == keep)
        ]


def real_posts(data: Path, seed: int = 0) -> list[str]:
    """Every distinct post of the data folder, in a seeded order."""
    texts = (
        _csv_texts(data / "rusentitweet" / "rusentitweet_train.csv", "text")
        + _csv_texts(data / "rusentitweet" / "rusentitweet_test.csv", "text")
        + _csv_texts(data / "opensentimentcorpus" / "opensentimentcorpus-final-by-majority.csv", "Sentence")
        + [
            t.strip()
            for t in (data / "tweeteval-sentiment" / "val_text.txt").read_text("utf-8").split("\n")
            if t.strip()
        ]
        + _csv_texts(data / "twitter-us-airline-sentiment" / "Tweets.csv", "text")
        + _csv_texts(data / "twcs-sample" / "twcs.csv", "text", keep="True")
    )
    seen: set[str] = set()
    posts: list[str] = []
    for text in texts:
        words = normalise(text)
        if words and words not in seen:
            seen.add(words)
            posts.append(text)
    random.Random(seed).shuffle(posts)
    return posts


def near_copies(text: str, rng: random.Random, comments: Sequence[str]) -> dict[str, str]:
    """Near-copies of `text` by kind: reposts, retweets, quotes, the same review posted again."""
    words = text.split()
    out = {
        "repost with another link": _LINK.sub("", text).strip() + f" https://t.co/{rng.randrange(16**8):08x}",
        "RT @user: text": f"RT @user{rng.randrange(1000)}: {text}",
    }
    if len(words) >= 8:
        kept = " ".join(words[: max(4, int(len(words) * 0.8))])
        out["retweet cut to 80% of the words"] = f"RT @user{rng.randrange(1000)}: {kept}…"
    out["comment + text"] = f"{rng.choice(comments)} {text}"
    out["comment + “text”"] = f"{rng.choice(comments)} “{text}”"
    out["text via @x"] = f"{text} via @news{rng.randrange(100)}"
    bare = text.rstrip("!.?… ")
    ending = rng.choice(["!", ".", "!!", ""]) + " " + rng.choice(ENDINGS) + rng.choice(SIGNATURES)
    out["again, other punctuation, emoji, signature"] = bare + ending
    if len(words) >= 6:
        edited = list(words)
        i = rng.randrange(1, len(edited) - 1)
        if rng.random() < 0.5:
            del edited[i]
        else:
            edited[i] = edited[i][::-1] if len(edited[i]) > 3 else edited[i] + edited[i][-1]
        out["again, one word dropped or misspelt"] = " ".join(edited)
    return out


def measure(settings: Settings) -> dict[str, object]:
    posts = real_posts(settings.data_dir)
    corrected = [t for t in posts if len(normalise(t).split()) >= 4][:CORRECTED]
    chosen = set(corrected)
    rest = [t for t in posts if t not in chosen]
    comments = [t for t in rest[-COMMENTS:] if 2 <= len(normalise(t).split()) <= 8][:300]
    others = rest[:-COMMENTS]
    rng = random.Random(1)
    copies = [near_copies(t, rng, comments) for t in corrected]
    flat = [(i, kind, copy) for i, group in enumerate(copies) for kind, copy in group.items()]

    model = load_builtin(settings)
    cache = settings.model_dir / "embeddings"
    x = embed_cached(model, corrected + [c for _, _, c in flat] + others[:OTHERS], cache, "near-copies")
    x_corrected, x_copies = x[: len(corrected)], x[len(corrected) : len(corrected) + len(flat)]
    x_others = x[len(corrected) + len(flat) :]
    labels = list(range(len(corrected)))  # one label per corrected post: a match names its post
    memory = CorrectionMemory.build(corrected, labels, x_corrected)
    exact = CorrectionMemory.build(corrected, labels)

    found = memory.labels_for([c for _, _, c in flat], x_copies)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    exact_by_kind: dict[str, list[bool]] = defaultdict(list)
    for (i, kind, copy), label in zip(flat, found, strict=True):
        by_kind[kind].append(label == i)
        exact_by_kind[kind].append(exact.label_of(copy) == i)
    wrong = [
        t
        for t, label in zip(others[:OTHERS], memory.labels_for(others[:OTHERS], x_others), strict=True)
        if label is not None
    ]

    # Every other post, by its words first: pairs whose trigrams would pass the looser branch.
    grams = [shingles(t) for t in corrected]
    by_gram: dict[int, list[int]] = defaultdict(list)
    for row, g in enumerate(grams):
        for gram in g:
            by_gram[gram].append(row)
    candidates: list[tuple[int, int, float, float]] = []
    for j, text in enumerate(others):
        mine = shingles(text, min_words=3)
        shared = Counter(row for gram in mine for row in by_gram.get(gram, ()))
        for row, n in shared.items():
            contained, share = n / len(grams[row]), n / len(mine)
            if is_near_copy(contained, share, 1.0):
                candidates.append((row, j, contained, share))
    needed = sorted({j for _, j, _, _ in candidates})
    x_others = embed_cached(model, [others[j] for j in needed], cache, "near-copies")
    x_needed = dict(zip(needed, x_others, strict=True))
    passing = [
        (corrected[row], others[j])
        for row, j, contained, share in candidates
        if is_near_copy(
            contained, share, float(x_corrected[row].astype(np.float16).astype(np.float32) @ x_needed[j])
        )
    ]
    total = [v for vs in by_kind.values() for v in vs]
    exact_total = [v for vs in exact_by_kind.values() for v in vs]
    return {
        "model": model.version,
        "corrected": len(corrected),
        "near_copies": {
            k: {
                "n": len(v),
                "matched": round(float(np.mean(v)), 3),
                "exact_rule_alone": round(float(np.mean(exact_by_kind[k])), 3),
            }
            for k, v in by_kind.items()
        },
        "near_copies_all": {
            "n": len(total),
            "matched": round(float(np.mean(total)), 3),
            "exact_rule_alone": round(float(np.mean(exact_total)), 3),
        },
        "others": {"n": OTHERS, "pairs": len(corrected) * OTHERS, "took_a_corrected_label": wrong},
        "all_other_posts": {
            "n": len(others),
            "pairs": len(corrected) * len(others),
            "word_candidates": len(candidates),
            "matched": passing,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    report = measure(Settings(model=None))
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
