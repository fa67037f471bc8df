"""The model alone, both inference paths in one run, fed as the worker feeds it.

The worker takes up to `MD_BATCH_TAKE` mentions at once and the model runs them sorted by length in
passes of `MD_BATCH_SIZE` (sentiment/agents.py, `E5HeadModel.score`). The bench does the same: one
`score` call per `batch_take` texts. The two paths run in alternation (torch, fast, fast, torch, ...)
and the medians are reported, so a busy host slows both alike and the ratio stays fair. The fast path
is the one `MD_FAST_RUNTIME` names (by default the model itself in int8 on OpenVINO; on ONNX Runtime,
its distilled student); both paths' accuracy on every held-out test part is reported beside their speed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from core.settings import Settings
from sentiment.model import NegativityModel, load_builtin

Path_ = Literal["torch", "fast"]
PATHS: tuple[Path_, Path_] = ("torch", "fast")


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


def sorted_throughput(model: NegativityModel, texts: Sequence[str], take: int) -> float:
    """Texts per second, `take` texts per call (each call length-sorted into batches by the model)."""
    start = time.perf_counter()
    for i in range(0, len(texts), take):
        model.score(list(texts[i : i + take]))
    return _rate(len(texts), time.perf_counter() - start)


def single_throughput(model: NegativityModel, texts: Sequence[str]) -> float:
    start = time.perf_counter()
    for t in texts:
        model.score([t])
    return _rate(len(texts), time.perf_counter() - start)


def path_throughput(settings: Settings, path: Path_, texts: Sequence[str]) -> float:
    """One path's sorted batch throughput over `texts`, warm, as `bench_paths` reports it: the timed
    round follows an untimed one (OpenVINO prepares its kernels on each input shape's first run, so
    a first pass over new texts is a quarter slower; `bench_paths`' median is of warm rounds)."""
    torch_settings = settings.model_copy(update={"inference": "torch", "quantize": None})
    model = load_builtin(torch_settings, inference=path)
    sorted_throughput(model, texts, settings.batch_take)  # warm-up: every shape the round meets
    return sorted_throughput(model, texts, settings.batch_take)


def bench_paths(settings: Settings, texts: Sequence[str], rounds: int = 3) -> dict[str, float | str]:
    """Both paths' sorted batch throughput (medians of alternating rounds), batch-1 rate, and how
    closely the fast path's scores follow the torch path's on the same texts."""
    torch_settings = settings.model_copy(update={"inference": "torch", "quantize": None})
    models: dict[Path_, NegativityModel] = {
        path: load_builtin(torch_settings, inference=path) for path in PATHS
    }
    for model in models.values():
        model.score(list(texts[:32]))  # warm-up
    rates: dict[Path_, list[float]] = {path: [] for path in PATHS}
    for i in range(rounds):
        for path in PATHS if i % 2 == 0 else PATHS[::-1]:
            rates[path].append(sorted_throughput(models[path], texts, settings.batch_take))
    single = {path: single_throughput(models[path], texts[:120]) for path in PATHS}
    scores = {path: models[path].score(list(texts[:512])) for path in PATHS}
    same = [a.label == b.label for a, b in zip(scores["torch"], scores["fast"], strict=True)]
    diff = [abs(a.negativity - b.negativity) for a, b in zip(scores["torch"], scores["fast"], strict=True)]
    median = {path: round(statistics.median(rates[path]), 2) for path in PATHS}
    return {
        "model_version": models["torch"].version,
        "fast_model_version": models["fast"].version,
        "fast_runtime": str(getattr(getattr(models["fast"], "encoder", None), "runtime", "")),
        "model_torch_texts_per_s_batch32": median["torch"],
        "model_fast_texts_per_s_batch32": median["fast"],
        "fast_to_torch_speedup": round(median["fast"] / median["torch"], 3),
        "model_torch_texts_per_s_batch1": single["torch"],
        "model_fast_texts_per_s_batch1": single["fast"],
        "fast_torch_label_agreement": round(float(np.mean(same)), 4),
        "fast_torch_max_negativity_diff": round(max(diff), 6),
        "model_rounds": rounds,
        "model_texts": len(texts),
        **held_out_accuracy(models, settings.data_dir),
    }


def held_out_accuracy(models: dict[Path_, NegativityModel], data_dir: Path) -> dict[str, float]:
    """Each path's macro-F1 and negative F1 on every held-out test part (as `mentiondesk eval`), and the
    largest drop of the fast path below the torch path over all of them (negative: it fell short)."""
    from sentiment.training.evaluate import evaluate

    out: dict[str, float] = {}
    drops: list[float] = []
    figures = {path: {row.name: row.figures for row in evaluate(models[path], data_dir)} for path in PATHS}
    for name, torch_figures in figures["torch"].items():
        if name.startswith("all "):
            continue
        for metric in ("macro_f1", "negative_f1"):
            for path in PATHS:
                out[f"{path}_{metric}_{name}"] = float(figures[path][name][metric])
            drops.append(float(figures["fast"][name][metric]) - float(torch_figures[metric]))
    if drops:
        out["fast_minus_torch_worst_f1"] = round(min(drops), 4)
    return out
