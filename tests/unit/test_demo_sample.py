"""The shipped demo sample holds no row the model is judged on: no text of any data set's test part or
of the validation part of the shipped model's recipe. An agent who corrects a demo mention and runs
`model retrain` would otherwise train on rows that decide the switch or that the README reports."""

from __future__ import annotations

import html
import json
import re

from ingest.replay import read_burst_ids
from mentiondesk.runtime import DEMO_FILE
from sentiment.model import MODEL_FILE, Head
from sentiment.training.datasets import load_benchmarks
from sentiment.training.finetune import recipe_split, recorded_recipe
from tests.support import DATA_DIR, LABELLED_FILES, needs_data

ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
NON_WORD = re.compile(r"\W+")


def key(text: str) -> str:
    """A text as the sample may have reshaped it (escapes and entities decoded, spaces collapsed),
    reduced further to its letters and digits, casefolded: equal for a row and its demo copy."""
    decoded = html.unescape(ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    return NON_WORD.sub("", decoded).casefold()


def _demo() -> list[dict[str, str | None]]:
    return [json.loads(line) for line in DEMO_FILE.read_text("utf-8").splitlines() if line.strip()]


@needs_data(*LABELLED_FILES)
def test_no_demo_text_is_a_test_or_validation_row() -> None:
    benches = load_benchmarks(DATA_DIR)
    train_sets, seed = recorded_recipe(Head.load(MODEL_FILE).meta or {})
    _, validation = recipe_split(benches, train_sets, seed)
    judged = {key(t): f"{b.name} test part" for b in benches for t in b.test.texts}
    judged.update({key(e.text): f"{e.group} validation part" for e in validation})

    found = [(row["id"], judged[key(str(row["text"]))]) for row in _demo() if key(str(row["text"])) in judged]

    assert found == []


def test_the_sample_keeps_its_size_and_its_burst_names_thread_starters() -> None:
    rows = _demo()
    assert len(rows) == 400
    assert sum(row["lang"] == "ru" for row in rows) == 250
    assert len({row["id"] for row in rows}) == 400
    starters = {row["id"] for row in rows if row["parent_id"] is None}
    burst = read_burst_ids(DEMO_FILE.with_name("burst_ids.txt"))
    assert len(burst) == 30 and burst <= starters
