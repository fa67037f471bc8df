"""Fingerprints of the labelled data a model was made with, recorded in its model file.

Held-out rows (`datasets.holdout_indices`) and the recipe's dev rows (`finetune.dev_split`) are chosen
by row position. A copy of the data in another order, a part of it or edited rows give other parts,
and scoring them would silently score rows the model was trained on. So training records, per data
set, a hash of each of its three parts:

- `train`: the rows the recipe trains on (a retrain replays some of them);
- `validation`: the recipe's dev rows, never trained on. They fit the calibration and thresholds and
  decide whether a retrained model replaces the one in force;
- `test`: the official test split or the fixed held-out part, never trained on and never used to
  decide anything: only reported (`mentiondesk eval`, the README).

A part's hash covers its (text, label) rows in any order: the same rows re-sorted are the same part
(RuSentiTweet's test file sorted by date, say), but a re-sorted file whose parts are chosen by
position yields other rows, hence another hash. `model eval`, `model calibrate` and `model retrain`
refuse data whose parts differ from the recorded ones (`DataMismatch`). A model file made before the
fingerprints were recorded cannot be checked: the commands say so on stderr and go on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sentiment.model import LABELS
from sentiment.training.datasets import Benchmark

FINGERPRINTS_KEY = "data_fingerprints"
"""The model file's metadata entry: JSON, data set -> part -> {"rows", "sha256"}."""
PARTS: tuple[str, ...] = ("train", "validation", "test")
PART_NAMES = {
    "train": "training part (the rows it was trained on)",
    "validation": "validation part (never trained on; calibration and the retrain decision)",
    "test": "test part (held out, never trained on; the reported figures)",
}
RECORD_SCRIPT = "scripts/record_data_fingerprints.py"


class RecipeRow(Protocol):
    """A row of the recipe (`finetune.Example`): its text, label index and data set."""

    @property
    def text(self) -> str: ...
    @property
    def label(self) -> int: ...
    @property
    def group(self) -> str: ...


@dataclass(frozen=True)
class PartPrint:
    """One part of one data set: its number of rows and the hash of its (text, label) rows."""

    rows: int
    sha256: str

    def to_json(self) -> dict[str, int | str]:
        return {"rows": self.rows, "sha256": self.sha256}

    def __str__(self) -> str:
        return f"{self.rows} rows, fingerprint {self.sha256}"


DataPrints = dict[str, dict[str, PartPrint]]
"""data set -> part (`PARTS`) -> its fingerprint."""


def part_print(texts: Sequence[str], labels: Sequence[str]) -> PartPrint:
    """The fingerprint of a multiset of (text, label) rows: independent of their order."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts for {len(labels)} labels")
    rows = sorted(
        hashlib.sha256(label.encode("utf-8") + b"\x00" + text.encode("utf-8")).digest()
        for text, label in zip(texts, labels, strict=True)
    )
    h = hashlib.sha256()
    for row in rows:
        h.update(row)
    return PartPrint(len(rows), h.hexdigest()[:16])


def data_prints(
    benches: Sequence[Benchmark], trained: Sequence[RecipeRow], validation: Sequence[RecipeRow]
) -> DataPrints:
    """Every data set's three parts, given the recipe's training and dev rows (`finetune.recipe_split`)."""

    def of(rows: Iterable[RecipeRow], name: str) -> PartPrint:
        mine = [r for r in rows if r.group == name]
        return part_print([r.text for r in mine], [LABELS[r.label] for r in mine])

    return {
        bench.name: {
            "train": of(trained, bench.name),
            "validation": of(validation, bench.name),
            "test": part_print(bench.test.texts, list(bench.test.labels)),
        }
        for bench in benches
    }


def prints_meta(prints: DataPrints) -> dict[str, str]:
    """The model file's metadata entry that records `prints`."""
    raw = {name: {part: p.to_json() for part, p in parts.items()} for name, parts in prints.items()}
    return {FINGERPRINTS_KEY: json.dumps(raw, sort_keys=True)}


def recorded_prints(meta: dict[str, str] | None) -> DataPrints | None:
    """The fingerprints a model file records (None: made before they were recorded)."""
    raw = (meta or {}).get(FINGERPRINTS_KEY)
    if not raw:
        return None
    try:
        return {
            str(name): {str(part): PartPrint(int(p["rows"]), str(p["sha256"])) for part, p in parts.items()}
            for name, parts in json.loads(raw).items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # a damaged or hand-edited file must not pass as "no fingerprints" (which only warns)
        raise DataMismatch(
            f"the model file's {FINGERPRINTS_KEY} entry cannot be read ({exc!r}): nothing can be "
            "checked, so nothing was scored or written"
        ) from exc


class DataMismatch(ValueError):
    """The data are not the ones the model file was made with (see the module doc)."""


def differences(
    recorded: DataPrints,
    found: DataPrints,
    names: Sequence[str],
    train_sets: Sequence[str],
    parts: Sequence[str] = PARTS,
) -> list[str]:
    """One line per part (of `parts`) of the data sets `names` whose rows differ from the recorded ones.

    A data set the model was not trained on and has no record of is not a difference: none of its
    rows can have been trained on.
    """
    lines: list[str] = []
    for name in names:
        kept = recorded.get(name)
        if kept is None:
            if name in train_sets:
                lines.append(f"{name}: the model file records no fingerprints of this data set")
            continue
        for part in parts:
            want, got = kept.get(part), found.get(name, {}).get(part)
            if want != got:
                hint = (
                    " (as many rows, other ones: the rows are in another order, or edited)"
                    if want and got and want.rows == got.rows
                    else ""
                )
                lines.append(
                    f"{name}: {PART_NAMES[part]} differs: recorded {want or 'nothing'}; "
                    f"these data give {got or 'nothing'}{hint}"
                )
    return lines


def check(
    recorded: DataPrints | None,
    found: DataPrints,
    names: Sequence[str],
    train_sets: Sequence[str],
    *,
    model_file: Path,
    data_dir: Path,
    parts: Sequence[str] = PARTS,
) -> str | None:
    """Raise `DataMismatch` unless the `parts` of the data sets `names` are those recorded in `model_file`.

    Returns a warning for a model file that records no fingerprints (made before they were), else None.
    """
    if recorded is None:
        return (
            f"warning: {model_file} records no data fingerprints (it was made before they were "
            f"recorded), so nothing checks that the held-out and validation parts of {data_dir} are "
            "rows it never trained on; they are only if these are the very files it was trained with "
            f"(`python {RECORD_SCRIPT}` records them from data you know are)"
        )
    lines = differences(recorded, found, names, train_sets, parts)
    if lines:
        raise DataMismatch(
            f"the data in {data_dir} are not the data {model_file} was made with:\n"
            + "\n".join(f"  - {line}" for line in lines)
            + "\nHeld-out and validation rows are chosen by row position, so a reordered, partial or "
            "edited copy of a data set puts rows the model was trained on into the parts it is scored "
            "on. Nothing was scored or written. Point --data (or MD_DATA_DIR) at the files the model "
            "was trained with."
        )
    return None
