"""Distil the fine-tuned encoder into a student of half its size: the fast path's model (`make fast-model`).

Two shapes (`SHAPES`): `shallow`, six of the twelve layers whole; `narrow`, all twelve layers, each
cut to the half of its attention heads and feed-forward units that contribute most to its output on
512 training texts (`sentiment.training.prune`). Both have 10.6 M weights in their layers' matrices;
the narrow one (the default) keeps more of the teacher and runs about a tenth slower in ONNX Runtime
(see the README's model section).

Recipe (seeded; the data folder is an argument; the teacher is a model file with its adapter):
1. the texts: the teacher's own training rows (its recipe's training part: never a dev, hold-out or
   test row), the airline training rows its subsample left out, and the brand support tweets of
   `twcs-sample` (unlabelled); labels are not used, only the teacher's outputs;
2. the teacher (adapter merged) embeds them once, as it serves;
3. the student starts as the teacher cut to its shape and is trained, every weight of its layers, to
   match the teacher's L2-normalised pooled embedding (cosine) and the head's softmax on it
   (KL divergence): AdamW, linear warm-up and decay, batches of similar length;
4. then, on the teacher's labelled training rows only, `LABELLED_EPOCHS` more passes at a lower
   learning rate with the cross-entropy of the labels added (the rows weighted as in the teacher's
   recipe): matching the teacher alone left the student 0.03 to 0.06 macro-F1 short on two sets;
5. then the student is made small enough to ship: each of its linear layers is stored as the built
   encoder's layer (cut as the student's) plus a rank-`COMPRESS_RANK` delta, the truncated SVD of the
   difference (int8 factors with per-row scales, `sentiment.student`), and its biases and layer norms
   whole: 3.3 MB for the narrow student, 2.4 MB for six layers, instead of 21 MB. No training follows:
   on the narrow student the truncation moved macro-F1 by -0.002 to +0.006 per set, while two more
   epochs on the labelled rows for the factors of a rank-48 delta (six layers) lost 0.029 on
   RuSentiTweet and 0.018 on the news sentences;
6. the head stays the teacher's; the calibration and the per-language thresholds are refitted for the
   student's logits on the teacher's dev part (rows neither of them trained on);
7. the file records `student_of` (the teacher's version), the layers (and, for a narrow student, the
   heads and units each keeps), the teacher's data fingerprints
   and recipe (the held-out parts are the same), and every test part's figures go to the metrics.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sentiment.adapter import Adapter, is_target
from sentiment.encoder_build import ensure_encoder
from sentiment.model import (
    QUERY_PREFIX,
    E5Encoder,
    E5HeadModel,
    F32Array,
    Head,
    _pad,
    builtin_version,
    write_model_file,
)
from sentiment.student import (
    ADAPTER_SCALE,
    PREFIX,
    LayerWidth,
    StudentWeights,
    Widths,
    cut_encoder,
    narrow,
    shrink,
    stored_widths,
    student_tensors,
    width_tensors,
)
from sentiment.training.datasets import Benchmark, load_benchmarks, subsample_indices
from sentiment.training.finetune import (
    SUBSAMPLE,
    TRAIN_MAX_LENGTH,
    calibrate,
    length_bucketed_batches,
    pooled_embedding,
    recipe_split,
    recorded_recipe,
    training_step,
    verify_data,
    warmup_then_decay,
)

if TYPE_CHECKING:
    from core.settings import Settings

LAYERS: tuple[int, ...] = (0, 2, 4, 7, 9, 11)
"""The teacher's layers the student starts from: every other one, keeping the last (of the cuts tried,
its pooled embedding starts closest to the teacher's: cosine 0.42 against 0.29 to 0.38)."""
PRUNE_TEXTS = 512
"""Training texts (a seeded sample) on which a narrow student's heads and units are scored."""


@dataclass(frozen=True)
class Shape:
    """A student's shape: the teacher's layers it starts from and, for a narrow one, how many heads and
    feed-forward units each keeps (None: all)."""

    layers: tuple[int, ...]
    heads: int | None = None
    units: int | None = None

    def describe(self) -> str:
        width = f" heads={self.heads} units={self.units}" if self.heads else ""
        return f"layers={len(self.layers)}{width}"


SHAPES: dict[str, Shape] = {
    "shallow": Shape(LAYERS),
    "narrow": Shape(tuple(range(12)), heads=6, units=768),
}
EPOCHS = 2
BATCH = 32
LR = 1e-4
LABELLED_EPOCHS = 2
LABELLED_LR = 5e-5
"""Stage 2: passes over the labelled training rows and their learning rate (lower: a warm start)."""
COMPRESS_RANK = 56
"""Rank of each linear layer's stored delta: 56 keeps 87% of a six-layer student's trained deltas'
energy on average (per unit of rank: 41,472 int8 numbers for six layers, 55,296 for the narrow
student). The int8 factors embed the dev part as fp16 ones do (cosine at least 0.99999 on 1,888 dev
rows, an eight-layer trial)."""
COSINE_WEIGHT = 10.0
"""Weight of (1 - cosine) against the KL term: both start near 0.1 for a cut encoder."""
TWCS = Path("twcs-sample") / "twcs.csv"


def distill_texts(benches: Sequence[Benchmark], meta: dict[str, str], data_dir: Path) -> list[str]:
    """The student's training texts: teacher's training part, left-out airline rows, support tweets."""
    train_sets, seed = recorded_recipe(meta)
    train_rows, _dev = recipe_split(benches, train_sets, seed)
    texts = [e.text for e in train_rows]
    for bench in benches:
        size = SUBSAMPLE.get(bench.name)
        if bench.name in train_sets and size is not None:
            used = set(subsample_indices(bench.train, size))
            texts += [t for i, t in enumerate(bench.train.texts) if i not in used]
    twcs = data_dir / TWCS
    if twcs.is_file():
        with twcs.open(encoding="utf-8", newline="") as f:
            texts += [row["text"] for row in csv.DictReader(f) if (row.get("text") or "").strip()]
    return list(dict.fromkeys(texts))


def texts_fingerprint(texts: Sequence[str]) -> str:
    """A short content hash of the distillation texts, in their order (recorded in the student file)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    return digest.hexdigest()[:16]


def train_student(
    folder: Path,
    adapter: Adapter | None,
    head: Head,
    texts: Sequence[str],
    targets: F32Array,
    *,
    layers: Sequence[int] = LAYERS,
    epochs: int = EPOCHS,
    seed: int = 0,
    threads: int = 2,
    lr: float = LR,
    labels: npt.NDArray[np.int64] | None = None,
    weights: npt.NDArray[np.float32] | None = None,
    start: Any = None,
) -> tuple[Any, list[float]]:
    """The student (a cut BertModel, trained) and its losses; `targets` are the teacher's embeddings.

    `labels` (class per text, -1 for none) add the cross-entropy of the head on the student's
    embedding, each row weighted by `weights`; `start` is a student to go on training instead of the
    teacher cut to `layers`.
    """
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    seqs = [
        list(ids)
        for ids in tokenizer([QUERY_PREFIX + t for t in texts], truncation=True, max_length=TRAIN_MAX_LENGTH)[
            "input_ids"
        ]
    ]
    pad_id = int(tokenizer.pad_token_id)
    student = shrink(whole_teacher(folder, adapter), layers) if start is None else start
    y = torch.from_numpy(np.full(len(texts), -1) if labels is None else np.asarray(labels, dtype=np.int64))
    w = torch.from_numpy(
        np.ones(len(texts), np.float32) if weights is None else np.asarray(weights, np.float32)
    )
    for name, param in student.named_parameters():
        param.requires_grad_(name.startswith("encoder.layer."))
    head_w = torch.from_numpy(np.asarray(head.weights[0], dtype=np.float32))
    head_b = torch.from_numpy(np.asarray(head.biases[0], dtype=np.float32))
    target = torch.from_numpy(np.asarray(targets, dtype=np.float32))
    target_logp = torch.log_softmax(target @ head_w.T + head_b, dim=-1)
    params = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(seqs) / BATCH)
    schedule = warmup_then_decay(optimizer, steps)
    student.train()
    losses: list[float] = []
    with tqdm(total=steps, desc="distil", unit="batch", file=sys.stderr) as bar:
        for _epoch in range(epochs):
            for batch in length_bucketed_batches([len(s) for s in seqs], BATCH, rng):
                ids, mask = _pad([seqs[i] for i in batch], pad_id)
                pooled = pooled_embedding(student, ids, mask)
                cosine = (pooled * target[batch]).sum(dim=-1)
                logp = torch.log_softmax(pooled @ head_w.T + head_b, dim=-1)
                kl = (target_logp[batch].exp() * (target_logp[batch] - logp)).sum(dim=-1)
                per_row = kl + COSINE_WEIGHT * (1.0 - cosine)
                labelled = y[batch] >= 0
                if bool(labelled.any()):
                    ce = torch.nn.functional.cross_entropy(logp, y[batch].clamp(min=0), reduction="none")
                    per_row = per_row + torch.where(labelled, ce, torch.zeros_like(ce))
                loss = (per_row * w[batch]).sum() / w[batch].sum()
                training_step(loss, optimizer, schedule, params, losses=losses, bar=bar)
    return student.eval(), losses


def low_rank_deltas(
    folder: Path, student: Any, layers: Sequence[int], rank: int, widths: Widths | None = None
) -> Adapter:
    """Each linear layer of `student` as a rank-`rank` delta from the built encoder's layer it started
    from (cut as the student's): the truncated SVD of the difference, split evenly between the factors
    (scale 1)."""
    import torch

    weights = dict(cut_encoder(folder, layers, widths).named_parameters())
    pairs = {}
    with torch.no_grad():
        for path, module in student.named_modules():
            if is_target(path) and isinstance(module, torch.nn.Linear):
                difference = module.weight.float() - weights[f"{path}.weight"].float()
                u, s, vh = torch.linalg.svd(difference, full_matrices=False)
                root = s[:rank].sqrt()
                pairs[path] = ((root[:, None] * vh[:rank]).numpy(), (u[:, :rank] * root).numpy())
    return Adapter(pairs, ADAPTER_SCALE)


def checkpoint_path(
    settings: Settings, teacher_version: str, seed: int, limit: int | None = None, shape: Shape | None = None
) -> Path:
    """Where the student of stages 1 and 2 (every weight, about 21 MB) is kept, outside the project."""
    limited = f"-limit{limit}" if limit is not None else ""
    narrowed = f"-h{shape.heads}u{shape.units}" if shape is not None and shape.heads else ""
    name = f"{teacher_version}-seed{seed}{limited}{narrowed}-stage2.safetensors"
    return settings.model_cache_dir / "distill" / name


def save_checkpoint(student: Any, path: Path, widths: Widths | None = None) -> None:
    """Every parameter of the student's layers, fp32, under `student.…` (and a narrow student's kept
    heads and units)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, npt.NDArray[Any]] = {
        PREFIX + name: param.detach().numpy()
        for name, param in student.named_parameters()
        if name.startswith("encoder.layer.")
    }
    write_model_file({**tensors, **width_tensors(widths or {})}, path, {})


def load_checkpoint(folder: Path, path: Path, layers: Sequence[int]) -> tuple[Any, Widths | None]:
    """The student of a checkpoint (`save_checkpoint`), on the built encoder cut to `layers` (and to
    the heads and units it keeps), and those widths."""
    import torch
    from safetensors.numpy import load_file

    stored = load_file(str(path))
    widths = stored_widths(stored)
    model = cut_encoder(folder, layers, widths)
    state = {
        k[len(PREFIX) :]: torch.from_numpy(v.astype(np.float32))
        for k, v in stored.items()
        if k.startswith(PREFIX)
    }
    expected = {n for n, _ in model.named_parameters() if n.startswith("encoder.layer.")}
    if set(state) != expected:
        raise ValueError(f"{path} is not a checkpoint of a {len(layers)}-layer student")
    model.load_state_dict(state, strict=False)
    return model, widths


def whole_teacher(folder: Path, adapter: Adapter | None) -> Any:
    """The whole fine-tuned encoder (adapter merged), frozen, in eval mode."""
    from transformers import BertModel

    model: Any = BertModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager")
    if adapter is not None:
        adapter.merge_into(model)
    for param in model.parameters():
        param.requires_grad_(False)
    return model.eval()


def pruned_start(
    folder: Path, adapter: Adapter | None, texts: Sequence[str], shape: Shape, seed: int
) -> tuple[Any, dict[int, LayerWidth]]:
    """A narrow student before training: the teacher (adapter merged) cut to `shape.layers`, each layer
    to its best `shape.heads` heads and `shape.units` units, scored on `PRUNE_TEXTS` of `texts`."""
    from transformers import AutoTokenizer

    from sentiment.training.prune import choose_widths

    assert shape.heads is not None and shape.units is not None
    model = shrink(whole_teacher(folder, adapter), shape.layers)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    rng = np.random.default_rng(seed)
    sample = [texts[int(i)] for i in sorted(rng.permutation(len(texts))[:PRUNE_TEXTS])]
    seqs = tokenizer([QUERY_PREFIX + t for t in sample], truncation=True, max_length=TRAIN_MAX_LENGTH)
    widths = choose_widths(model, seqs["input_ids"], int(tokenizer.pad_token_id), shape.heads, shape.units)
    return narrow(model, widths), widths


def distill(
    data_dir: Path,
    settings: Settings,
    teacher_path: Path,
    out_dir: Path,
    *,
    shape: Shape = SHAPES["narrow"],
    epochs: int = EPOCHS,
    seed: int = 0,
    limit: int | None = None,
    resume: bool = False,
    rank: int = COMPRESS_RANK,
) -> dict[str, Any]:
    """Distil the model file at `teacher_path` into `out_dir/fast.safetensors`; returns its metrics.

    `limit` caps the training texts (a quick check of the recipe; the shipped student uses them all).
    The student of stages 1 and 2 is kept in the model cache (`checkpoint_path`); `resume` goes on
    from it when there is one (made with the same teacher, seed and limit), at stage 3.
    """
    from safetensors.numpy import load_file

    from sentiment.student import STUDENT_FILE
    from sentiment.training.finetune import report_tests

    started = time.perf_counter()
    folder = ensure_encoder(settings.model_cache_dir)
    teacher_head = Head.load(teacher_path)
    meta = dict(teacher_head.meta or {})
    teacher_version = builtin_version(teacher_path, teacher_head)
    benches = load_benchmarks(Path(data_dir))
    warning = verify_data(meta, benches, model_file=teacher_path, data_dir=Path(data_dir))
    if warning:
        print(warning, file=sys.stderr)
    tensors = load_file(str(teacher_path))
    scale = meta.get("lora_scale")
    adapter = Adapter.from_tensors(tensors, float(scale)) if scale else None
    texts = distill_texts(benches, meta, Path(data_dir))
    train_sets, recipe_seed = recorded_recipe(meta)
    train_rows, dev_rows = recipe_split(benches, train_sets, recipe_seed)
    if limit is not None:
        rng = np.random.default_rng(seed)
        texts = [texts[int(i)] for i in sorted(rng.permutation(len(texts))[:limit])]
        train_rows = [train_rows[int(i)] for i in sorted(rng.permutation(len(train_rows))[:limit])]
    layers = shape.layers
    checkpoint = checkpoint_path(settings, teacher_version, seed, limit, shape)
    losses: list[float] = []
    resumed = resume and checkpoint.is_file()
    widths: Widths | None = None
    if resumed:
        student, widths = load_checkpoint(folder, checkpoint, layers)
        embed_s = 0.0
    else:
        teacher = E5Encoder(
            folder, TRAIN_MAX_LENGTH, settings.batch_size, settings.torch_threads, adapter=adapter
        )
        targets = teacher.embed(texts)
        embed_s = time.perf_counter() - started
        start = None
        if shape.heads is not None:
            start, widths = pruned_start(folder, adapter, texts, shape, seed)
        student, losses = train_student(
            folder,
            adapter,
            teacher_head,
            texts,
            targets,
            layers=layers,
            epochs=epochs,
            seed=seed,
            threads=settings.torch_threads,
            start=start,
        )
        where = {t: i for i, t in enumerate(texts)}
        known = [where.get(e.text) for e in train_rows]
        missing = [e.text for e, i in zip(train_rows, known, strict=True) if i is None]
        extra = teacher.embed(missing) if missing else np.zeros((0, targets.shape[1]), np.float32)
        del teacher
        rows_x = np.concatenate([targets, extra])
        n = len(texts)
        index = [
            i if i is not None else n + missing.index(e.text) for e, i in zip(train_rows, known, strict=True)
        ]
        # Stage 2: the labelled training rows, their labels beside the teacher's outputs.
        student, labelled_losses = train_student(
            folder,
            adapter,
            teacher_head,
            [e.text for e in train_rows],
            rows_x[index],
            epochs=LABELLED_EPOCHS,
            seed=seed,
            threads=settings.torch_threads,
            lr=LABELLED_LR,
            labels=np.array([e.label for e in train_rows], dtype=np.int64),
            weights=np.array([e.weight for e in train_rows], dtype=np.float32),
            start=student.train(),
        )
        losses += labelled_losses
        save_checkpoint(student, checkpoint, widths)
    train_s = time.perf_counter() - started - embed_s

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / STUDENT_FILE.name
    head_tensors = {k: v for k, v in tensors.items() if k.startswith("layer")}
    student_meta = {
        k: v for k, v in meta.items() if k not in {"lora_scale", "calibration", "thresholds", "memory_format"}
    }
    student_meta.update(
        student_of=teacher_version,
        student_layers=",".join(str(i) for i in layers),
        student_texts=f"{len(texts)} texts, sha256 {texts_fingerprint(texts)}",
        student_recipe=(
            f"distil {shape.describe()} epochs={epochs} batch={BATCH} lr={LR:g} len={TRAIN_MAX_LENGTH}; "
            f"labelled epochs={LABELLED_EPOCHS} lr={LABELLED_LR:g}; delta rank={rank}"
        ),
    )
    # Stage 3: the layers stored as low-rank deltas from the built encoder's, biases and norms whole.
    deltas = low_rank_deltas(folder, student, layers, rank, widths)
    student_file = {**head_tensors, **student_tensors(student, deltas), **width_tensors(widths or {})}
    del student

    # Calibrate the student's logits on the teacher's dev part, as served (its stored tensors, the
    # serving length); the file is then written once, calibrated.
    served = E5Encoder(
        folder,
        settings.max_length,
        settings.batch_size,
        settings.torch_threads,
        student=StudentWeights(student_file, tuple(layers)),
    )
    dev_x = served.embed([e.text for e in dev_rows])
    calibration = calibrate(
        teacher_head.logits(dev_x),
        np.array([e.label for e in dev_rows], dtype=np.int64),
        [e.language for e in dev_rows],
    )
    student_meta.update(calibration.meta())
    student_meta["temperature"] = repr(calibration.temperature)
    write_model_file(student_file, path, student_meta)

    final = E5HeadModel(served, Head.load(path), path)
    report = report_tests(final, benches)
    agreement = {
        "mean_cosine_to_teacher_dev": round(
            float(
                np.mean(
                    np.sum(
                        dev_x
                        * E5Encoder(
                            folder,
                            settings.max_length,
                            settings.batch_size,
                            settings.torch_threads,
                            adapter=adapter,
                        ).embed([e.text for e in dev_rows]),
                        axis=1,
                    )
                )
            ),
            4,
        ),
    }
    metrics: dict[str, Any] = {
        "model_version": final.version,
        "student_of": student_meta["student_of"],
        "student_layers": list(layers),
        "student_shape": shape.describe(),
        "recipe": student_meta["student_recipe"],
        "test": report,
        "calibration": {k: v.to_json() for k, v in calibration.scalings.items()},
        "thresholds": calibration.thresholds,
        **agreement,
        "resumed_from": str(checkpoint) if resumed else None,
        "n_texts": len(texts),
        "n_dev": len(dev_rows),
        "final_loss": round(float(np.mean(losses[-100:])), 5) if losses else None,
        "seed": seed,
        "torch_threads": settings.torch_threads,
        "embed_seconds": round(embed_s, 1),
        "train_seconds": round(train_s, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "model_bytes": path.stat().st_size,
    }
    (out_dir / "fast-metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
