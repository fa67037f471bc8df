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
   corrected mentions and their near-duplicates score as agents said even where the weights did
   not move far enough;
3. scores old and new on the same held-out sets and switches (`ModelRegistry.activate`) only when
   no held-out macro-F1 or negative-class F1 is lower by more than `tolerance` (default 0.01).
Every score carries the model version, so scores before and after the switch can be told apart.
"""

from __future__ import annotations

import hashlib
import json
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
)

if TYPE_CHECKING:
    from core.settings import Settings

CORRECTION_WEIGHT = 1.0
REPLAY_ROWS = 3000
RETRAIN_EPOCHS = 2
RETRAIN_LR_ADAPTER = 5e-5
RETRAIN_LR_HEAD = 5e-4
COMPARED = ("macro_f1", "negative_f1")


@dataclass(frozen=True)
class RetrainResult:
    switched: bool
    old_version: str
    new_version: str
    report: dict[str, Any]
    model_file: Path


def _cache_dir(settings: Settings) -> Path:
    return settings.model_dir / "embeddings"


def _embed_cached(model: E5HeadModel, texts: Sequence[str], cache: Path, name: str) -> F32Array:
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
    """Train on corrections, compare on the held-out sets, switch when not worse (see the module doc)."""
    from safetensors.numpy import load_file

    from sentiment.encoder_build import ensure_encoder

    if not corrections:
        raise ValueError("no corrections to learn from: agents correct labels on the desk's thread page")
    started = time.perf_counter()
    current = load_builtin(settings)
    cache = _cache_dir(settings)
    meta = dict(current.head.meta or {})
    scale = meta.get("lora_scale")
    if not scale:
        raise ValueError(f"{current.path} has no adapter to continue from: run `make model` first")
    old_adapter = Adapter.from_tensors(load_file(str(current.path)), float(scale))
    assert old_adapter is not None
    # Replay only rows the model was trained on: the split of the seed it was trained with.
    train_sets, trained_seed = recorded_recipe(meta)
    benches = load_benchmarks(Path(data_dir))
    trained_rows, _ = recipe_split(benches, train_sets, trained_seed)
    replayed = replay_sample(trained_rows, replay, seed)
    fixes = [
        Example(text, LABELS.index(label), CORRECTION_WEIGHT, "corrections", detect_language(text))
        for text, label in corrections
    ]
    x_replay = _embed_cached(current, [e.text for e in replayed], cache, "replay")
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
    memory = CorrectionMemory.build(fix_texts, [LABELS.index(label) for label in wanted])
    save_model(staging / MODEL_NAME, new_head, adapter, new_meta, memory)
    candidate = load_builtin(settings, staging / MODEL_NAME)
    new_version = candidate.version

    held_out: dict[str, dict[str, Any]] = {}
    for bench in benches:
        if not len(bench.test):
            continue
        texts = bench.test.texts
        x_old = _embed_cached(current, texts, cache, f"test-{bench.name}")
        x_new = candidate.encoder.embed(texts)
        old = compute_metrics(bench.test.labels, _labels(current, x_old, texts))
        new = compute_metrics(bench.test.labels, _labels(candidate, x_new, texts))
        held_out[bench.name] = {
            "old": old,
            "new": new,
            "change": {k: round(float(new[k]) - float(old[k]), 4) for k in COMPARED},
            "memory_hits": sum(memory.label_of(t) is not None for t in texts),
        }
    before = _labels(current, current.encoder.embed(fix_texts), fix_texts)
    x_fix = candidate.encoder.embed(fix_texts)
    after = _labels(candidate, x_fix, fix_texts)
    by_weights = _labels(candidate, x_fix, fix_texts, use_memory=False)
    worst = min((v["change"][k] for v in held_out.values() for k in COMPARED), default=0.0)
    accepted = worst >= -tolerance

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
        "held_out": held_out,
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
