"""Learn from the desk: fold agents' label corrections into the model, switch only if not worse.

`mentiondesk model retrain`:
1. continues training the model in force (its adapter and head, not from scratch) on the
   corrections, each weighing `CORRECTION_WEIGHT` rows (an agent's label is a deliberate fix),
   mixed with a seeded, stratified replay of its own training rows (`REPLAY_ROWS`) whose targets
   are the old model's own probabilities (distillation), so it changes where agents corrected it
   and stays put elsewhere; `RETRAIN_EPOCHS` epochs at a lower learning rate than the first
   fine-tune;
2. keeps the old temperature and per-language thresholds (the model moved little by design) and
   stores the corrections in the new model's correction memory (`sentiment.memory`), so the
   corrected mentions, their copies and near-copies score as agents said even where the weights did
   not move far enough;
3. scores old and new on every data set's validation part and switches (`ModelRegistry.activate`)
   unless some validation macro-F1 or negative-class F1 falls by more than `tolerance` (default
   0.01) *and* by more than chance: the rows of that set the new model gets wrong and the old one
   right outnumber the reverse by at least `SIGNIFICANCE_Z` standard deviations (McNemar's test,
   one-sided 5%; for negative F1, on the negative-or-not decision). Validation parts run from 161
   (TweetEval) to 884 rows, and on the small ones a single changed answer moves a figure by several
   hundredths, so a drop alone would refuse good models at random. The validation part is the
   recipe's dev part (`finetune.dev_split`: seeded, stratified by data set and label, 10% of the
   training pool): neither model trained on it (the replay draws from the training rows only, and
   corrected texts are left out of it), and it is not the test part that `mentiondesk eval` and
   the README report. The test parts are scored too, but only reported: they decide nothing, so
   they stay an unbiased measure of whichever model is in force.
   The calibration and thresholds both models use were fitted on these dev rows for the old model,
   which can only favour the old one: the gate errs towards keeping it, never towards a worse model.
The data must be those the model file records (`sentiment.training.fingerprints`), else nothing is
trained. Every score carries the model version, so scores before and after the switch can be told
apart.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sentiment.adapter import Adapter
from sentiment.language import detect_language
from sentiment.memory import CorrectionMemory
from sentiment.model import (
    LABELS,
    E5HeadModel,
    F32Array,
    Head,
    active_model_file,
    load_builtin,
    softmax,
)
from sentiment.registry import MODEL_NAME, ModelRegistry
from sentiment.training.datasets import load_benchmarks
from sentiment.training.evaluate import compute_metrics
from sentiment.training.finetune import (
    Example,
    recipe_split,
    recorded_recipe,
    save_model,
    train_adapter,
    verify_data,
)

if TYPE_CHECKING:
    from core.settings import Settings

CORRECTION_WEIGHT = 1.0
REPLAY_ROWS = 3000
RETRAIN_EPOCHS = 2
RETRAIN_LR_ADAPTER = 5e-5
RETRAIN_LR_HEAD = 5e-4
COMPARED = ("macro_f1", "negative_f1")
SIGNIFICANCE_Z = 1.645
"""McNemar's statistic from which a fall counts (one-sided 5%): (lost - gained) / sqrt(lost + gained)."""
DECIDES = "validation"
"""The part whose figures decide the switch: each data set's dev part (never trained on, not reported)."""
REPORTED = "test"
"""The part only reported: each data set's official test split or fixed hold-out, as `eval` scores it."""


@dataclass(frozen=True)
class RetrainResult:
    switched: bool
    old_version: str
    new_version: str
    report: dict[str, Any]
    model_file: Path


def _cache_dir(settings: Settings) -> Path:
    return settings.model_dir / "embeddings"


def embed_cached(model: E5HeadModel, texts: Sequence[str], cache: Path, name: str) -> F32Array:
    """Embeddings of `texts` by `model`, kept on disk by model version and content."""
    from tqdm import tqdm

    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    path = cache / f"{model.version}-{name}-{digest}.npy"
    if path.is_file():
        cached: F32Array = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    with tqdm(total=len(texts), desc=f"embed {name}", unit="text", file=sys.stderr) as bar:
        vectors = model.encoder.embed(list(texts), progress=bar.update)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


def _labels(model: E5HeadModel, x: F32Array, texts: Sequence[str], *, use_memory: bool = True) -> list[str]:
    return [s.label for s in model.scores_from_embeddings(x, texts, use_memory=use_memory)]


def read_corrections(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows from a corrections export (JSONL or CSV with `text` and `label`)."""
    import csv

    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    out: list[tuple[str, str]] = []
    for i, row in enumerate(rows, 1):
        label = str(row.get("label", "")).strip().lower()
        if label not in LABELS or not str(row.get("text", "")).strip():
            raise ValueError(f"{path}: row {i} needs a text and a label in {', '.join(LABELS)}")
        out.append((str(row["text"]), label))
    return out


def replay_sample(rows: Sequence[Example], size: int, seed: int) -> list[Example]:
    """At most `size` rows, stratified by (data set, label), seeded."""
    if size >= len(rows):
        return list(rows)
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    keys = sorted({(e.group, e.label) for e in rows})
    for key in keys:
        idx = np.array([i for i, e in enumerate(rows) if (e.group, e.label) == key])
        rng.shuffle(idx)
        keep.extend(int(i) for i in idx[: round(len(idx) * size / len(rows))])
    return [rows[i] for i in sorted(keep)]


def paired_change(truth: Sequence[bool], old: Sequence[bool], new: Sequence[bool]) -> dict[str, Any]:
    """McNemar's comparison of two models' right (True) and wrong answers on the same rows.

    `lost`: rows the new model gets wrong and the old one right; `gained`: the reverse; `z`: how many
    standard deviations `lost` exceeds `gained` by (0 when no answer changed).
    """
    lost = sum(o == t and n != t for t, o, n in zip(truth, old, new, strict=True))
    gained = sum(n == t and o != t for t, o, n in zip(truth, old, new, strict=True))
    z = (lost - gained) / math.sqrt(lost + gained) if lost + gained else 0.0
    return {"lost": lost, "gained": gained, "z": round(z, 3)}


def falls(row: dict[str, Any], tolerance: float) -> list[str]:
    """The figures (of `COMPARED`) of one set's comparison that fell by more than `tolerance` and by
    more than chance (`SIGNIFICANCE_Z`)."""
    return [k for k in COMPARED if row["change"][k] < -tolerance and row["paired"][k]["z"] >= SIGNIFICANCE_Z]


def compare_on(
    old: E5HeadModel,
    new: E5HeadModel,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    memory: CorrectionMemory,
    cache: Path,
    name: str,
) -> dict[str, Any]:
    """Old and new model's figures on one part of one data set, and their change."""
    x_old = embed_cached(old, texts, cache, name)
    x_new = new.encoder.embed(list(texts))
    old_labels, new_labels = _labels(old, x_old, texts), _labels(new, x_new, texts)
    before = compute_metrics(labels, old_labels)
    after = compute_metrics(labels, new_labels)
    is_negative = [lab == "negative" for lab in labels]
    return {
        "old": before,
        "new": after,
        "change": {k: round(float(after[k]) - float(before[k]), 4) for k in COMPARED},
        "paired": {
            "macro_f1": paired_change(
                [True] * len(labels),
                [a == b for a, b in zip(old_labels, labels, strict=True)],
                [a == b for a, b in zip(new_labels, labels, strict=True)],
            ),
            "negative_f1": paired_change(
                is_negative,
                [lab == "negative" for lab in old_labels],
                [lab == "negative" for lab in new_labels],
            ),
        },
        "memory_hits": sum(label is not None for label in memory.labels_for(texts, x_new)),
    }


def retrain(
    data_dir: Path,
    settings: Settings,
    corrections: Sequence[tuple[str, str]],
    *,
    tolerance: float = 0.01,
    seed: int = 0,
    replay: int = REPLAY_ROWS,
    dry_run: bool = False,
) -> RetrainResult:
    """Train on corrections, decide on the validation parts, switch when not worse (see the module doc).

    Raises `fingerprints.DataMismatch` (a ValueError) before any work when `data_dir` is not the data
    the model in force records.
    """
    from safetensors.numpy import load_file

    from sentiment.encoder_build import ensure_encoder

    if not corrections:
        raise ValueError("no corrections to learn from: agents correct labels on the desk's thread page")
    started = time.perf_counter()
    path = active_model_file(settings)
    meta = dict(Head.load(path).meta or {})
    scale = meta.get("lora_scale")
    if not scale:
        raise ValueError(f"{path} has no adapter to continue from: run `make model` first")
    benches = load_benchmarks(Path(data_dir))
    warning = verify_data(meta, benches, model_file=path, data_dir=Path(data_dir))
    if warning:
        print(warning, file=sys.stderr)
    current = load_builtin(settings, path)
    cache = _cache_dir(settings)
    old_adapter = Adapter.from_tensors(load_file(str(current.path)), float(scale))
    assert old_adapter is not None
    # Replay only rows the model was trained on: the split of the seed it was trained with. Its dev
    # rows (never trained on) are the validation part that decides.
    train_sets, trained_seed = recorded_recipe(meta)
    trained_rows, dev_rows = recipe_split(benches, train_sets, trained_seed)
    replayed = replay_sample(trained_rows, replay, seed)
    fixes = [
        Example(text, LABELS.index(label), CORRECTION_WEIGHT, "corrections", detect_language(text))
        for text, label in corrections
    ]
    x_replay = embed_cached(current, [e.text for e in replayed], cache, "replay")
    unanchored = np.full((len(fixes), len(LABELS)), np.nan)
    teacher = np.vstack([softmax(current.head.logits(x_replay)), unanchored]).astype(np.float32)
    adapter, head, losses = train_adapter(
        ensure_encoder(settings.model_cache_dir),
        replayed + fixes,
        epochs=RETRAIN_EPOCHS,
        seed=seed,
        threads=settings.torch_threads,
        start=(old_adapter, current.head),
        lr_adapter=RETRAIN_LR_ADAPTER,
        lr_head=RETRAIN_LR_HEAD,
        soft_targets=teacher,
    )
    # The new model is the old one nudged on a few hundred rows and held to it elsewhere, so the
    # old temperature and thresholds stay; refitting them on a small dev set only adds noise.
    registry = ModelRegistry(settings.model_dir)
    staging = registry.candidate_dir("staging")
    thresholds = dict(current.thresholds)
    new_head = Head(head.weights, head.biases, temperature=current.head.temperature)
    new_meta = {
        **{k: v for k, v in meta.items() if k not in {"temperature", "labels", "layers"}},
        "parent": current.version,
        "corrections": str(len(corrections)),
        "retrained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    fix_texts = [t for t, _ in corrections]
    wanted = [label for _, label in corrections]
    # The memory keeps the corrected texts' embeddings by the new model itself (its near-copy rule
    # compares them with the embeddings the new model gives mentions): save, embed, save again.
    staged = staging / MODEL_NAME
    save_model(staged, new_head, adapter, new_meta)
    encoder = load_builtin(settings, staged).encoder  # loaded once: the memory leaves the encoder as it is
    x_fix = encoder.embed(fix_texts)
    memory = CorrectionMemory.build(fix_texts, [LABELS.index(label) for label in wanted], x_fix)
    save_model(staged, new_head, adapter, new_meta, memory)
    candidate = E5HeadModel(
        encoder,
        Head.load(staged),
        staged,
        settings.quantize,
        CorrectionMemory.from_tensors(load_file(str(staged))),
    )
    new_version = candidate.version

    corrected = set(fix_texts)
    validation: dict[str, dict[str, Any]] = {}
    for bench in benches:
        rows = [e for e in dev_rows if e.group == bench.name]
        kept = [e for e in rows if e.text not in corrected]  # trained on now: they cannot judge
        if not kept:
            continue
        validation[bench.name] = {
            **compare_on(
                current,
                candidate,
                [e.text for e in kept],
                [LABELS[e.label] for e in kept],
                memory=memory,
                cache=cache,
                name=f"{DECIDES}-{bench.name}",
            ),
            "left_out_as_corrected": len(rows) - len(kept),
        }
    test: dict[str, dict[str, Any]] = {}
    for bench in benches:
        if len(bench.test):
            test[bench.name] = compare_on(
                current,
                candidate,
                bench.test.texts,
                list(bench.test.labels),
                memory=memory,
                cache=cache,
                name=f"{REPORTED}-{bench.name}",
            )
    before = _labels(current, current.encoder.embed(fix_texts), fix_texts)
    after = _labels(candidate, x_fix, fix_texts)
    by_weights = _labels(candidate, x_fix, fix_texts, use_memory=False)
    worst = min((v["change"][k] for v in validation.values() for k in COMPARED), default=0.0)
    blocking = {name: found for name, row in validation.items() if (found := falls(row, tolerance))}
    accepted = not blocking

    folder = registry.candidate_dir(new_version)
    model_file = folder / MODEL_NAME
    (staging / MODEL_NAME).replace(model_file)
    staging.rmdir()
    report: dict[str, Any] = {
        "old_version": current.version,
        "new_version": new_version,
        "switched": accepted and not dry_run,
        "accepted": accepted,
        "tolerance": tolerance,
        "worst_change": round(worst, 4),
        "significance_z": SIGNIFICANCE_Z,
        "blocking": blocking,
        "decided_on": {
            "part": DECIDES,
            "sets": list(validation),
            "rows": "each data set's dev part of the recipe: never trained on, not the reported test part",
        },
        "reported": {
            "part": REPORTED,
            "sets": list(test),
            "rows": "each data set's test part (official test split or fixed hold-out): decides nothing",
        },
        DECIDES: validation,
        REPORTED: test,
        "corrections": {
            "n": len(corrections),
            "old_agrees": sum(a == b for a, b in zip(before, wanted, strict=True)),
            "new_agrees": sum(a == b for a, b in zip(after, wanted, strict=True)),
            "changed": sum(a != b for a, b in zip(before, after, strict=True)),
            "learned_by_weights": sum(a == b for a, b in zip(by_weights, wanted, strict=True)),
        },
        "replay_rows": len(replayed),
        "final_train_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "temperature": round(new_head.temperature, 4),
        "thresholds": thresholds,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    if accepted and not dry_run:
        registry.activate(model_file, new_version, {"corrections": len(corrections), "worst_change": worst})
    return RetrainResult(accepted and not dry_run, current.version, new_version, report, model_file)
