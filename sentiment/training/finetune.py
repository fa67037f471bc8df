"""Fine-tune the encoder with low-rank adapters, together with its head (`make model`).

Recipe (seeded; the data folder is an argument):
1. pool the training parts of the labelled sets (`TRAIN_SETS`): RuSentiTweet train, the 80% of
   OpenSentimentCorpus and of TweetEval validation outside their fixed hold-outs (TweetEval at
   double weight: the only general English tweets), and 4,000 airline rows at half weight. The
   hold-outs and RuSentiTweet test are never trained on;
2. keep a seeded, stratified dev part (`DEV_FRACTION`, by set and label) out of training: it fits
   the calibration and chooses the per-language thresholds;
3. train LoRA (rank `RANK`) on every attention projection and feed-forward layer of the encoder and
   a linear head on the L2-normalised mean-pooled `query: ` embedding, jointly: AdamW, linear
   warm-up and decay, `EPOCHS` epochs of batches of similar length, texts cut at `TRAIN_MAX_LENGTH`
   tokens (tweets rarely reach it);
4. save the adapter (fp16) and head into one file, then load it the way the worker does (adapter
   merged into the weights, serving max length) and embed the dev part and every test part;
5. per language, fit the calibration on dev (vector scaling: a temperature and class biases), and
   the negative threshold: the lowest cut-off whose negative-class F1 is within `THRESHOLD_SLACK`
   of the best (a missed complaint costs more than a false alarm, so of equally good cut-offs the
   one that flags most complaints wins); `mentiondesk model calibrate` redoes this step alone;
6. write `model.safetensors` and `metrics.json` (every test part's figures, sizes, timings). The
   model file records the fingerprints of every data set's training, validation (dev) and test
   parts (`sentiment.training.fingerprints`): `model eval`, `model calibrate` and `model retrain`
   refuse data whose parts are not these.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sentiment.adapter import Adapter, is_target
from sentiment.encoder_build import encoder_fingerprint, ensure_encoder
from sentiment.memory import CorrectionMemory
from sentiment.model import (
    LABELS,
    QUERY_PREFIX,
    E5HeadModel,
    F32Array,
    Head,
    LogitScaling,
    _pad,
    load_builtin,
    softmax,
    write_model_file,
)
from sentiment.training.calibration import fit_logit_scaling, fit_temperature
from sentiment.training.datasets import Benchmark, load_benchmarks, subsample_indices
from sentiment.training.evaluate import compute_metrics
from sentiment.training.fingerprints import (
    PARTS,
    DataPrints,
    check,
    data_prints,
    prints_meta,
    recorded_prints,
)
from sentiment.training.metrics import expected_calibration_error, negativity_ece

if TYPE_CHECKING:
    import torch

    from core.settings import Settings

TRAIN_SETS: tuple[str, ...] = ("rusentitweet", "opensentimentcorpus", "tweeteval", "airline")
SUBSAMPLE: dict[str, int] = {"airline": 4000}
SET_WEIGHTS: dict[str, float] = {"airline": 0.5, "tweeteval": 2.0}
DEV_FRACTION = 0.1
RANK = 16
ALPHA = 32.0
EPOCHS = 3
BATCH = 32
TRAIN_MAX_LENGTH = 64
LR_ADAPTER = 5e-4
LR_HEAD = 3e-3
WARMUP_FRACTION = 0.06
HEAD_SCALE = 16.0
"""The head sees the unit-length embedding times this, so its weights start in a sane range; the
saved head has the factor folded in and takes the plain unit-length embedding, as served."""
THRESHOLD_SLACK = 0.0
MODEL_NAME = "model.safetensors"


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    weight: float
    group: str  # data set
    language: str


def training_pool(benches: Sequence[Benchmark], train_sets: Sequence[str]) -> list[Example]:
    pool: list[Example] = []
    for bench in benches:
        if bench.name not in train_sets:
            continue
        for i in subsample_indices(bench.train, SUBSAMPLE.get(bench.name)):
            pool.append(
                Example(
                    bench.train.texts[i],
                    LABELS.index(bench.train.labels[i]),
                    SET_WEIGHTS.get(bench.name, 1.0),
                    bench.name,
                    bench.train.language,
                )
            )
    return pool


def dev_split(pool: Sequence[Example], seed: int, fraction: float = DEV_FRACTION) -> npt.NDArray[np.bool_]:
    """Mask of the dev rows: stratified by (data set, label), seeded."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(pool), dtype=bool)
    keys = sorted({(e.group, e.label) for e in pool})
    for key in keys:
        idx = np.array([i for i, e in enumerate(pool) if (e.group, e.label) == key])
        rng.shuffle(idx)
        mask[idx[: round(len(idx) * fraction)]] = True
    return mask


def recipe_split(
    benches: Sequence[Benchmark], train_sets: Sequence[str], seed: int
) -> tuple[list[Example], list[Example]]:
    """The recipe's training rows and its dev rows (`dev_split` of the pool of `train_sets`)."""
    pool = training_pool(benches, train_sets)
    dev = dev_split(pool, seed)
    return (
        [e for e, d in zip(pool, dev, strict=True) if not d],
        [e for e, d in zip(pool, dev, strict=True) if d],
    )


def recorded_recipe(meta: dict[str, str]) -> tuple[list[str], int]:
    """The training sets and seed a model file was trained with (its metadata; the defaults if absent)."""
    train_sets = [s for s in meta.get("train_sets", ",".join(TRAIN_SETS)).split(",") if s]
    return train_sets, int(meta.get("seed", "0"))


def recipe_prints(benches: Sequence[Benchmark], train_sets: Sequence[str], seed: int) -> DataPrints:
    """The fingerprints of every data set's parts under the recipe of `train_sets` and `seed`."""
    return data_prints(benches, *recipe_split(benches, train_sets, seed))


def verify_data(
    meta: dict[str, str] | None,
    benches: Sequence[Benchmark],
    *,
    model_file: Path,
    data_dir: Path,
    parts: Sequence[str] = PARTS,
) -> str | None:
    """Raise `DataMismatch` unless the `parts` of `benches` are those the model file recorded.

    Training and validation parts come from the recipe over every training set, so `benches` must
    then be all of them; test parts depend on their own files only (`eval --sets` checks those).
    Cheap (no model, no embedding): call it before any work. Returns the warning for a model file
    without recorded fingerprints, which the caller shows.
    """
    train_sets, seed = recorded_recipe(meta or {})
    recipe_parts = set(parts) - {"test"}
    found = recipe_prints(benches, train_sets, seed) if recipe_parts else data_prints(benches, [], [])
    return check(
        recorded_prints(meta),
        found,
        [b.name for b in benches],
        train_sets,
        model_file=model_file,
        data_dir=data_dir,
        parts=parts,
    )


def record_fingerprints(model_file: Path, data_dir: Path, output: Path | None = None) -> DataPrints:
    """Write into `output` (default: `model_file` itself) the model with its data's fingerprints.

    The fingerprints are those of `data_dir` under the recipe recorded in the file (training sets and
    seed); the tensors and every other metadata entry are copied unchanged. Only for data the model
    was made with: the fingerprints then vouch that their held-out parts were never trained on.
    """
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(str(model_file))
    with safe_open(str(model_file), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    train_sets, seed = recorded_recipe(meta)
    prints = recipe_prints(load_benchmarks(Path(data_dir)), train_sets, seed)
    write_model_file(tensors, output or model_file, {**meta, **prints_meta(prints)})
    return prints


def length_bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, window: int = 50
) -> Iterator[list[int]]:
    """Shuffled batches of similar length: shuffle, sort inside windows of `window` batches, cut,
    shuffle the batches. Much less padding than random batches, still a random order."""
    order = rng.permutation(len(lengths))
    span = batch_size * window
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    for k in rng.permutation(len(batches)):
        yield batches[int(k)]


def best_threshold(
    negativity: npt.NDArray[np.float64], is_negative: npt.NDArray[np.bool_], slack: float = THRESHOLD_SLACK
) -> float:
    """The lowest P(negative) cut-off whose negative-class F1 is within `slack` of the best one.

    A missed complaint costs more than a false alarm, so among cut-offs that are about as good,
    the one that flags the most complaints wins.
    """
    cutoffs = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores = []
    for t in cutoffs:
        flagged = negativity >= t
        tp = float((flagged & is_negative).sum())
        precision = tp / max(float(flagged.sum()), 1.0)
        recall = tp / max(float(is_negative.sum()), 1.0)
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    best = max(scores)
    return float(next(t for t, f in zip(cutoffs, scores, strict=True) if f >= best - slack))


MIN_CALIBRATION_ROWS = 200
"""A language with fewer dev rows than this is calibrated by the all-languages fit ("*")."""


@dataclass(frozen=True)
class Calibration:
    temperature: float  # one temperature over all dev rows (reported; models before vector scaling)
    scalings: dict[str, LogitScaling]  # language -> temperature and class biases; "*" for the others
    thresholds: dict[str, float]  # language -> cut-off; "*" for the others
    ece_before: float
    ece_after: float

    def meta(self) -> dict[str, str]:
        """The model file's metadata entries that carry this calibration."""
        return {
            "calibration": json.dumps({k: v.to_json() for k, v in self.scalings.items()}, sort_keys=True),
            "thresholds": json.dumps(self.thresholds, sort_keys=True),
        }


def calibrate(
    logits: npt.NDArray[np.float64], y: npt.NDArray[np.int64], languages: Sequence[str]
) -> Calibration:
    """Per language: vector scaling (NLL on these held-out rows), then the cut-off on the result."""
    langs = np.array(languages)
    scalings = {"*": fit_logit_scaling(logits, y)}
    probs = scalings["*"].probs(logits)  # rows of languages with a fit of their own are replaced below
    thresholds = {"*": best_threshold(probs[:, 0], y == 0)}
    for language in sorted(set(langs.tolist())):
        sel = langs == language
        if int(sel.sum()) < MIN_CALIBRATION_ROWS:
            continue
        scalings[language] = fit_logit_scaling(logits[sel], y[sel])
        probs[sel] = scalings[language].probs(logits[sel])
        thresholds[language] = best_threshold(probs[sel, 0], y[sel] == 0)
    return Calibration(
        fit_temperature(logits, y),
        scalings,
        thresholds,
        expected_calibration_error(softmax(logits), y),
        expected_calibration_error(probs, y),
    )


def _lora_modules(model: torch.nn.Module, rank: int, alpha: float, seed: int) -> dict[str, Any]:
    """Wrap every target linear layer of `model` in a LoRA layer (in place); returns path -> layer."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
            self.scale = alpha / rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.base(x) + (x @ self.a.T @ self.b.T) * self.scale
            return out

    torch.manual_seed(seed)
    wrapped: dict[str, Any] = {}
    for path, module in list(model.named_modules()):
        if is_target(path) and isinstance(module, torch.nn.Linear):
            parent_path, _, name = path.rpartition(".")
            parent = model.get_submodule(parent_path)
            layer = LoRALinear(module)
            setattr(parent, name, layer)
            wrapped[path] = layer
    return wrapped


def pooled_embedding(model: Any, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`model`'s last hidden state, mean-pooled over the attention mask and L2-normalised (as served)."""
    import torch

    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)


def warmup_then_decay(optimizer: Any, steps: int) -> Any:
    """Linear warm-up over `WARMUP_FRACTION` of `steps`, then linear decay to zero."""
    import torch

    warmup = max(1, int(steps * WARMUP_FRACTION))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )


def training_step(
    loss: torch.Tensor, optimizer: Any, schedule: Any, params: Sequence[Any], *, losses: list[float], bar: Any
) -> None:
    """One step on `loss`: gradients clipped to norm 1; the loss goes to `losses` and the progress bar."""
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    schedule.step()
    losses.append(float(loss.detach()))
    bar.update(1)
    bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")


def train_adapter(
    folder: Path,
    rows: Sequence[Example],
    *,
    epochs: int,
    seed: int,
    threads: int,
    start: tuple[Adapter, Head] | None = None,
    lr_adapter: float = LR_ADAPTER,
    lr_head: float = LR_HEAD,
    soft_targets: F32Array | None = None,
) -> tuple[Adapter, Head, list[float]]:
    """LoRA + head trained on `rows` (weighted cross-entropy), from scratch or from `start`.

    `soft_targets` (one probability row per training row, NaN where a row keeps its hard label)
    distils a teacher: such rows are pulled towards the teacher's probabilities instead of their
    label, which is how a retrain keeps the model in force's behaviour on everything it is not
    being corrected on.

    Returns the adapter, the head as served (HEAD_SCALE folded in, temperature 1) and the losses.
    """
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    encoded = tokenizer([QUERY_PREFIX + e.text for e in rows], truncation=True, max_length=TRAIN_MAX_LENGTH)[
        "input_ids"
    ]
    seqs = [list(ids) for ids in encoded]
    labels = torch.tensor([e.label for e in rows], dtype=torch.long)
    weights = torch.tensor([e.weight for e in rows], dtype=torch.float32)
    if soft_targets is not None and soft_targets.shape != (len(rows), len(LABELS)):
        raise ValueError(f"soft_targets must be {len(rows)} x {len(LABELS)}, not {soft_targets.shape}")
    soft = None if soft_targets is None else torch.from_numpy(np.nan_to_num(soft_targets, nan=0.0))
    is_soft = (
        torch.zeros(len(rows), dtype=torch.bool)
        if soft_targets is None
        else torch.from_numpy(~np.isnan(soft_targets).any(axis=1))
    )
    pad_id = int(tokenizer.pad_token_id)

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
    for p in model.parameters():
        p.requires_grad_(False)
    lora = _lora_modules(model, RANK, ALPHA, seed)
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    with torch.no_grad():
        if start is None:
            torch.nn.init.zeros_(head.weight)
            torch.nn.init.zeros_(head.bias)
        else:
            old_adapter, old_head = start
            for path, (a, b) in old_adapter.pairs.items():
                lora[path].a.copy_(torch.from_numpy(a))
                lora[path].b.copy_(torch.from_numpy(b))
            head.weight.copy_(torch.from_numpy(old_head.weights[0] / HEAD_SCALE))
            head.bias.copy_(torch.from_numpy(old_head.biases[0]))
    adapter_params = [p for layer in lora.values() for p in (layer.a, layer.b)]
    optimizer = torch.optim.AdamW(
        [
            {"params": adapter_params, "lr": lr_adapter, "weight_decay": 0.01},
            {"params": list(head.parameters()), "lr": lr_head, "weight_decay": 0.0},
        ]
    )
    steps = epochs * math.ceil(len(seqs) / BATCH)
    schedule = warmup_then_decay(optimizer, steps)

    model.train()
    losses: list[float] = []
    with tqdm(total=steps, desc="fine-tune", unit="batch", file=sys.stderr) as bar:
        for _epoch in range(epochs):
            for batch in length_bucketed_batches([len(s) for s in seqs], BATCH, rng):
                ids, mask = _pad([seqs[i] for i in batch], pad_id)
                pooled = pooled_embedding(model, ids, mask)
                logits = head(pooled * HEAD_SCALE)
                per_row = torch.nn.functional.cross_entropy(logits, labels[batch], reduction="none")
                if soft is not None and bool(is_soft[batch].any()):
                    distilled = -(soft[batch] * torch.log_softmax(logits, dim=-1)).sum(dim=-1)
                    per_row = torch.where(is_soft[batch], distilled, per_row)
                w = weights[batch]
                loss = (per_row * w).sum() / w.sum()
                training_step(loss, optimizer, schedule, adapter_params, losses=losses, bar=bar)

    adapter = Adapter(
        {p: (m.a.detach().numpy().copy(), m.b.detach().numpy().copy()) for p, m in lora.items()},
        ALPHA / RANK,
    )
    served_head = Head(
        weights=((head.weight.detach().numpy() * HEAD_SCALE).astype(np.float32),),
        biases=(head.bias.detach().numpy().astype(np.float32),),
    )
    return adapter, served_head, losses


def finetune(
    data_dir: Path,
    settings: Settings,
    out_dir: Path,
    seed: int = 0,
    *,
    epochs: int = EPOCHS,
    limit: int | None = None,
    train_sets: Sequence[str] = TRAIN_SETS,
) -> dict[str, Any]:
    """Train, calibrate and save the built-in model into `out_dir`; returns the metrics written.

    `limit` caps the training rows (a quick check of the recipe; the shipped model uses them all).
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    folder = ensure_encoder(settings.model_cache_dir)
    benches = load_benchmarks(Path(data_dir))
    train_rows, dev_rows = recipe_split(benches, train_sets, seed)
    if limit is not None:
        train_rows = [train_rows[int(i)] for i in sorted(rng.permutation(len(train_rows))[:limit])]

    adapter, plain_head, losses = train_adapter(
        folder, train_rows, epochs=epochs, seed=seed, threads=settings.torch_threads
    )
    train_s = time.perf_counter() - started

    meta: dict[str, str] = {
        "encoder": encoder_fingerprint(),
        "recipe": f"lora r={RANK} alpha={ALPHA:g} epochs={epochs} batch={BATCH} len={TRAIN_MAX_LENGTH}",
        "train_sets": ",".join(train_sets),
        "seed": str(seed),
        "lora_scale": repr(ALPHA / RANK),
        **prints_meta(recipe_prints(benches, train_sets, seed)),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MODEL_NAME
    save_model(path, plain_head, adapter, meta)

    figures = calibrate_and_report(path, benches, dev_rows, settings)
    metrics: dict[str, Any] = {
        **figures,
        "recipe": meta["recipe"],
        "train_sets": list(train_sets),
        "subsample": SUBSAMPLE,
        "set_weights": SET_WEIGHTS,
        "n_train": len(train_rows),
        "n_dev": len(dev_rows),
        "final_train_loss": round(float(np.mean(losses[-100:])), 4),
        "seed": seed,
        "torch_threads": settings.torch_threads,
        "train_seconds": round(train_s, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def calibrate_and_report(
    path: Path, benches: Sequence[Benchmark], dev_rows: Sequence[Example], settings: Settings
) -> dict[str, Any]:
    """Calibrate the model file at `path` on `dev_rows` (rewriting the file), then score every test part.

    The model is loaded the way the worker loads it (adapter merged, serving max length), so the
    calibration fits what is served. The adapter, head weights and correction memory stay as they are.
    """
    from safetensors.numpy import load_file

    served = load_builtin(settings, path)
    dev_x = served.encoder.embed([e.text for e in dev_rows])
    dev_y = np.array([e.label for e in dev_rows], dtype=np.int64)
    calibration = calibrate(served.head.logits(dev_x), dev_y, [e.language for e in dev_rows])
    meta = {
        **(served.head.meta or {}),
        **calibration.meta(),
        "threshold_rule": f"lowest within {THRESHOLD_SLACK} of best F1",
    }
    tensors = load_file(str(path))
    scale = meta.get("lora_scale")
    save_model(
        path,
        Head(served.head.weights, served.head.biases, temperature=calibration.temperature),
        Adapter.from_tensors(tensors, float(scale)) if scale else None,
        meta,
        CorrectionMemory.from_tensors(tensors),
    )

    # The same encoder (the adapter did not change); the head now carries the calibration.
    final = E5HeadModel(served.encoder, Head.load(path), path, settings.quantize, served.memory)
    report = report_tests(final, benches)
    return {
        "model_version": final.version,
        "test": report,
        "temperature": round(calibration.temperature, 4),
        "calibration": {k: v.to_json() for k, v in calibration.scalings.items()},
        "thresholds": calibration.thresholds,
        "threshold_slack": THRESHOLD_SLACK,
        "dev_ece_before": round(calibration.ece_before, 4),
        "dev_ece_after": round(calibration.ece_after, 4),
        "model_bytes": path.stat().st_size,
    }


def report_tests(model: E5HeadModel, benches: Sequence[Benchmark]) -> dict[str, Any]:
    """Every test part's figures for `model`: F1s as served and by argmax, recall, calibration error."""
    report: dict[str, Any] = {}
    for bench in benches:
        scores = model.score(bench.test.texts)
        probs = np.array([[s.probs[name] for name in LABELS] for s in scores])
        truth = np.array([LABELS.index(label) for label in bench.test.labels], dtype=np.int64)
        figures: dict[str, Any] = dict(compute_metrics(bench.test.labels, [s.label for s in scores]))
        argmax = compute_metrics(bench.test.labels, [LABELS[int(i)] for i in probs.argmax(axis=1)])
        figures["argmax_macro_f1"] = argmax["macro_f1"]
        figures["argmax_negative_f1"] = argmax["negative_f1"]
        flagged = np.array([s.label == "negative" for s in scores])
        negatives = truth == 0
        figures["negative_recall"] = round(float((flagged & negatives).sum() / max(negatives.sum(), 1)), 4)
        figures["ece"] = round(expected_calibration_error(probs, truth), 4)
        figures["negativity_ece"] = round(negativity_ece(probs[:, 0], negatives), 4)
        report[bench.name] = figures
    return report


def recalibrate(data_dir: Path, settings: Settings, path: Path) -> dict[str, Any]:
    """Refit the calibration of a trained model file on the dev part of its own recipe.

    The dev rows are the ones the model was not trained on: the same seed and training sets as
    recorded in the file's metadata, on the data whose fingerprints it records (else `DataMismatch`,
    before anything is embedded or written). Updates `metrics.json` beside the file, keeping the
    training figures, and returns it.
    """
    meta = Head.load(path).meta or {}
    train_sets, seed = recorded_recipe(meta)
    benches = load_benchmarks(Path(data_dir))
    warning = verify_data(meta, benches, model_file=path, data_dir=Path(data_dir))
    if warning:
        print(warning, file=sys.stderr)
    _, dev_rows = recipe_split(benches, train_sets, seed)
    metrics_file = path.parent / "metrics.json"
    metrics: dict[str, Any] = (
        json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    )
    metrics.update(calibrate_and_report(path, benches, dev_rows, settings))
    metrics_file.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def save_model(
    path: Path,
    head: Head,
    adapter: Adapter | None,
    meta: dict[str, str],
    memory: CorrectionMemory | None = None,
) -> None:
    """One file: the head's layers, the adapter's pairs and the correction memory (if any), the metadata."""
    tensors: dict[str, npt.NDArray[Any]] = {}
    for i, (w, b) in enumerate(zip(head.weights, head.biases, strict=True)):
        tensors[f"layer{i}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
        tensors[f"layer{i}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
    if adapter is not None:
        tensors.update(adapter.tensors())
    metadata = {k: v for k, v in (head.meta or {}).items() if k not in {"labels", "temperature", "layers"}}
    metadata.update(meta)
    if memory is not None:
        tensors.update(memory.tensors())
    metadata.update(
        labels=",".join(LABELS), temperature=repr(float(head.temperature)), layers=str(len(head.weights))
    )
    write_model_file(tensors, path, metadata)
