"""Regenerate the shipped demo stream `mentiondesk/demo/mentions.jsonl` from the real data sets.

    python scripts/make_demo_sample.py ../shared/data            # writes the shipped file
    python scripts/make_demo_sample.py ../shared/data -o out.jsonl --seed 7

The data folder is the shared one with every labelled set (`sentiment.training.datasets`): no row of
any data set's test part, nor of the validation part of the shipped model's recipe, is taken. An
agent who corrects a demo mention and retrains would otherwise put rows the model is judged on into
its training (tests/unit/test_demo_sample.py checks it).

Sources (both allow redistribution; see mentiondesk/demo/ATTRIBUTION.md):
- OpenSentimentCorpus, `opensentimentcorpus/opensentimentcorpus-final-by-majority.csv` (Russian, CC BY-SA 3.0)
- TweetEval sentiment, `tweeteval-sentiment/val_text.txt` + `val_labels.txt` (English, released without
  restrictions; Twitter's terms may apply)

The labels choose a balanced mix of negative, neutral and positive rows but are NOT written out. Ids,
authors and the thread structure are synthetic. The same data and seed always give the same file.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sentiment.model import MODEL_FILE, Head
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import recipe_split, recorded_recipe

DEFAULT_SEED = 20240521
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "mentiondesk" / "demo" / "mentions.jsonl"

OSC_FILE = Path("opensentimentcorpus") / "opensentimentcorpus-final-by-majority.csv"
TWEETEVAL_TEXT = Path("tweeteval-sentiment") / "val_text.txt"
TWEETEVAL_LABELS = Path("tweeteval-sentiment") / "val_labels.txt"
TWEETEVAL_NAMES = {"0": "negative", "1": "neutral", "2": "positive"}

# rows per (language, label); 250 Russian + 150 English = 400
QUOTAS: dict[tuple[str, str], int] = {
    ("ru", "negative"): 100,
    ("ru", "neutral"): 90,
    ("ru", "positive"): 60,
    ("en", "negative"): 55,
    ("en", "neutral"): 45,
    ("en", "positive"): 50,
}
# share of each quota taken from rows that read like a mention of a company, product or service
BRANDISH_SHARE = 0.6
# share of rows that are replies inside a thread
REPLY_SHARE = 0.15
MIN_CHARS = 25
MAX_CHARS = 280

BRAND_WORDS: dict[str, re.Pattern[str]] = {
    "ru": re.compile(
        r"\b(компани\w*|сервис\w*|магазин\w*|банк\w*|цен[аеуы]\w*|качеств\w*|покуп\w*|заказ\w*|клиент\w*"
        r"|обслуж\w*|товар\w*|продукц\w*|продукт\w*|услуг\w*|доставк\w*|оператор\w*|связ[ьи]|интернет\w*"
        r"|телефон\w*|приложени\w*|сайт\w*|поддержк\w*|рекоменд\w*|отлично\w*|ужасн\w*|разочаров\w*"
        r"|доволен|довольн\w*|недоволен|спасибо|бренд\w*|реклам\w*|рын(ок|ка|ке)|потребител\w*|фирм\w*)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(service|customer|app|apps|phone|iphone|ipad|samsung|galaxy|apple|amazon|netflix|google|microsoft"
        r"|windows|store|order|delivery|flight|airline|bank|support|product|price|update|xbox|playstation"
        r"|ps4|nike|starbucks|mcdonald'?s|uber|verizon|sony|nintendo|tesla|ebay|kindle|spotify|itunes"
        r"|snapchat|twitter|facebook|youtube|brand|refund|shipping|battery|recommend)\b",
        re.IGNORECASE,
    ),
}

RU_NAMES = (
    "anna", "ivan", "olga", "dmitry", "maria", "sergey", "elena", "alexey", "natalia", "pavel",
    "irina", "maxim", "tatiana", "nikolai", "svetlana", "andrey", "yulia", "roman", "ksenia", "igor",
)  # fmt: skip
EN_NAMES = (
    "alex", "sam", "jordan", "taylor", "casey", "morgan", "jamie", "riley", "chris", "pat",
    "drew", "lee", "robin", "kim", "devon", "avery", "quinn", "reese", "skyler", "jesse",
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    text: str
    lang: str
    label: str
    raw: str = ""  # the text as the data set has it


@dataclass
class Row:
    text: str
    lang: str
    author: str
    sort_key: float
    parent: Row | None = None  # the message this one answers
    root: Row | None = None  # the thread's first message; None: the row starts its own thread
    id: str = ""


UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def normalise(text: str) -> str:
    return " ".join(text.split())


NON_WORD = re.compile(r"\W+")


def match_key(text: str) -> str:
    """What two texts share when they are the same row: decoded, without punctuation or spaces, casefolded."""
    return NON_WORD.sub("", clean_tweet(text)).casefold()


def judged_keys(data_dir: Path, model_file: Path = MODEL_FILE) -> set[str]:
    """`match_key` of every row a model is judged or validated on: each data set's test part and the
    validation (dev) part of the recipe recorded in `model_file`."""
    benches = load_benchmarks(data_dir)
    train_sets, seed = recorded_recipe(Head.load(model_file).meta or {})
    _, dev = recipe_split(benches, train_sets, seed)
    texts = [t for b in benches for t in b.test.texts] + [e.text for e in dev]
    return {match_key(t) for t in texts}


def clean_tweet(text: str) -> str:
    """TweetEval keeps some characters as literal `\\u2019`/`\\u002c` escapes and HTML entities."""
    return normalise(html.unescape(UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)))


def read_opensentimentcorpus(data_dir: Path) -> list[Candidate]:
    """Russian sentences with their majority label (`mixed` dropped)."""
    found: list[Candidate] = []
    with (data_dir / OSC_FILE).open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            label = record["Sentiment"].strip()
            if label in {"negative", "neutral", "positive"}:
                found.append(Candidate(normalise(record["Sentence"]), "ru", label, record["Sentence"]))
    return found


def read_tweeteval(data_dir: Path) -> list[Candidate]:
    """English tweets of the validation split with their labels (line i labels line i)."""
    texts = (data_dir / TWEETEVAL_TEXT).read_text(encoding="utf-8").splitlines()
    labels = (data_dir / TWEETEVAL_LABELS).read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(f"TweetEval: {len(texts)} texts but {len(labels)} labels")
    return [
        Candidate(clean_tweet(text), "en", TWEETEVAL_NAMES[label], text)
        for text, label in zip(texts, labels, strict=True)
    ]


def choose(candidates: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """A seeded sample per (language, label) quota, partly from rows that read like brand mentions."""
    seen: set[str] = set()
    pools: dict[tuple[str, str], list[Candidate]] = {key: [] for key in QUOTAS}
    for cand in candidates:
        key = (cand.lang, cand.label)
        if key in pools and MIN_CHARS <= len(cand.text) <= MAX_CHARS and cand.text.casefold() not in seen:
            seen.add(cand.text.casefold())
            pools[key].append(cand)
    chosen: list[Candidate] = []
    for (lang, label), quota in QUOTAS.items():
        pool = pools[(lang, label)]
        if len(pool) < quota:
            raise ValueError(f"only {len(pool)} usable {lang}/{label} rows, {quota} wanted")
        brandish = [c for c in pool if BRAND_WORDS[lang].search(c.text)]
        picked = rng.sample(brandish, min(len(brandish), round(quota * BRANDISH_SHARE)))
        taken = {id(c) for c in picked}
        rest = [c for c in pool if id(c) not in taken]
        picked += rng.sample(rest, quota - len(picked))
        chosen += picked
    return chosen


def author_for(lang: str, rng: random.Random) -> str:
    names = RU_NAMES if lang == "ru" else EN_NAMES
    return f"{rng.choice(names)}_{rng.randint(10, 9999)}"


def build_rows(chosen: Sequence[Candidate], rng: random.Random) -> list[Row]:
    """Rows in stream order with synthetic ids, authors and small threads (~15% replies)."""
    rows = [Row(c.text, c.lang, author_for(c.lang, rng), rng.random()) for c in chosen]
    for lang in ("ru", "en"):
        indices = [i for i, row in enumerate(rows) if row.lang == lang]
        rng.shuffle(indices)
        replies_wanted = round(len(indices) * REPLY_SHARE)
        cursor = 0
        while replies_wanted > 0 and cursor < len(indices):
            size = min(rng.randint(2, 4), replies_wanted + 1)
            members = indices[cursor : cursor + size]
            cursor += size
            root = members[0]
            for position, idx in enumerate(members[1:], start=1):
                # most replies answer the first post; some answer the message just before
                parent = root if rng.random() < 0.6 else members[position - 1]
                rows[idx].parent = rows[parent]
                rows[idx].root = rows[root]
                # the customer often writes again in their own thread
                if rng.random() < 0.4:
                    rows[idx].author = rows[root].author
                # a reply follows its parent in the stream, interleaved with other mentions
                rows[idx].sort_key = rows[parent].sort_key + rng.uniform(0.001, 0.04)
                replies_wanted -= 1
    order = sorted(range(len(rows)), key=lambda i: rows[i].sort_key)
    for number, idx in enumerate(order, start=1):
        rows[idx].id = f"demo-{number:04d}"
    return [rows[i] for i in order]


def to_json(row: Row) -> dict[str, str | None]:
    root = row.root if row.root is not None else row
    return {
        "id": row.id,
        "text": row.text,
        "source": "replay",
        "author": row.author,
        "lang": row.lang,
        "thread_id": f"thread-{root.id.removeprefix('demo-')}",
        "parent_id": row.parent.id if row.parent is not None else None,
    }


def make_sample(data_dir: Path, seed: int = DEFAULT_SEED) -> list[dict[str, str | None]]:
    """The demo rows, in stream order, for this data folder and seed."""
    rng = random.Random(seed)
    judged = judged_keys(data_dir)
    candidates = [
        c
        for c in read_opensentimentcorpus(data_dir) + read_tweeteval(data_dir)
        if match_key(c.text) not in judged and match_key(c.raw) not in judged
    ]
    chosen = choose(candidates, rng)
    return [to_json(row) for row in build_rows(chosen, rng)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path, help="the shared data folder, every labelled set in it")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    rows = make_sample(args.data_dir, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    replies = sum(1 for row in rows if row["parent_id"] is not None)
    print(f"wrote {len(rows)} rows ({replies} replies) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
