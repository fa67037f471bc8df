"""The fast path's model on OpenVINO: the whole fine-tuned encoder, once per model version, in the
precision that pays on the CPU (`served_precision`): int8 where the CPU multiplies int8 in hardware
(`cpu_features`), else fp32.

Steps, all offline and at build time (`mentiondesk model export`, run by `make encoder`):
1. the served encoder with the model file's adapter merged in, plus pooling, as an ONNX graph
   (`onnx_export.export_merged`, not fused: OpenVINO reads the plain operators);
2. for int8, NNCF's post-training quantization for transformers (`nncf.quantize`, model type
   TRANSFORMER): int8 weights (per channel) and activations on the matrix products, with the activation
   ranges measured on `CALIBRATION_TEXTS` texts of the model's own dev part (rows it neither trained on
   nor reports figures on); softmax, layer norms and GELU stay in floating point. fp32 is the graph
   as exported (OpenVINO's own fusions at compile time; no data needed);
3. saved as OpenVINO IR (`model.xml` and its weights) in
   `<MD_MODEL_CACHE_DIR>/openvino/<model version>-<encoder build>-<q|f><FORMAT>/`, written into a
   staging folder renamed into place, as the ONNX exports are.

Measured on the shipped model (README): int8 holds every held-out macro-F1 and negative F1 within 0.003
of the torch path's (embeddings at mean cosine 0.997 to torch's); fp32 is torch's figures. ONNX
Runtime's static int8 of the same graph (QDQ, min-max ranges) reached only cosine 0.875, and NNCF's
int8 of the ONNX graph ran on ONNX Runtime at fp32's speed, which is why this path runs on OpenVINO.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sentiment.cpu_features import has_int8_dot_product
from sentiment.encoder_build import encoder_fingerprint, ensure_encoder
from sentiment.onnx_export import DONE_MARKER, ExportInfo, build_once, export_merged, pad_batch

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

Precision = Literal["int8", "fp32"]
QUANT_FORMAT = 1
"""Bump when the quantized model's output changes, so old ones are not reused."""
FP32_FORMAT = 1
"""Bump when the fp32 model's output changes."""
FOLDER_SUFFIX: dict[Precision, str] = {"int8": f"q{QUANT_FORMAT}", "fp32": f"f{FP32_FORMAT}"}
GRAPH_FILE = "model.xml"
CALIBRATION_TEXTS = 320
"""Dev-part texts whose activations set the int8 ranges: spread evenly over the dev part, which is
stratified by data set and label, so every set and label is in the sample."""


def served_precision(settings: Settings) -> Precision:
    """The precision `settings.fast_precision` means on this machine: "auto" is int8 where the CPU has
    int8 dot-product instructions, else fp32 (where int8 is no faster than fp32)."""
    if settings.fast_precision != "auto":
        return settings.fast_precision
    return "int8" if has_int8_dot_product() else "fp32"


def openvino_dir(cache_dir: Path, model_version: str, precision: Precision) -> Path:
    """Where the OpenVINO model of `model_version` in `precision` is (or will be) kept."""
    suffix = FOLDER_SUFFIX[precision]
    return Path(cache_dir) / "openvino" / f"{model_version}-{encoder_fingerprint()}-{suffix}"


def quantized_dir(cache_dir: Path, model_version: str) -> Path:
    """Where the int8 model of `model_version` is (or will be) kept."""
    return openvino_dir(cache_dir, model_version, "int8")


def ensure_openvino(
    settings: Settings, model_path: Path, model_version: str, precision: Precision
) -> ExportInfo:
    """The OpenVINO model of the model file at `model_path` in `precision`, built first if missing."""
    build = build_quantized if precision == "int8" else build_fp32
    return build_once(
        openvino_dir(settings.model_cache_dir, model_version, precision),
        lambda staging: build(staging, settings, model_path, model_version),
    )


def ensure_served(settings: Settings, model_path: Path, model_version: str) -> ExportInfo:
    """The OpenVINO model the fast path serves for the model file at `model_path`, built first if
    missing: in the precision `served_precision` names, except that an int8 model which cannot be
    calibrated here (no data sets, or not those the model recorded) is reported and the fp32 one
    serves: the torch path's figures without int8's speed, rather than a worker that cannot start."""
    precision = served_precision(settings)
    if precision == "fp32":
        return ensure_openvino(settings, model_path, model_version, "fp32")
    try:
        return ensure_openvino(settings, model_path, model_version, "int8")
    except Exception as exc:  # calibration reads data this machine may not have; fp32 needs none
        log.warning(
            "the int8 model of %s cannot be made here (%s: %s); OpenVINO serves it in fp32 instead "
            "(the torch path's figures, without int8's speed)",
            model_path.name,
            type(exc).__name__,
            exc,
        )
        return ensure_openvino(settings, model_path, model_version, "fp32")


def calibration_texts(settings: Settings, model_path: Path, size: int = CALIBRATION_TEXTS) -> list[str]:
    """`size` texts of the model's dev part, evenly spaced over it (refused, like `calibrate`, when the
    data sets are not those the model file recorded)."""
    from sentiment.model import Head
    from sentiment.training.datasets import load_benchmarks
    from sentiment.training.finetune import recipe_split, recorded_recipe, verify_data

    meta = Head.load(model_path).meta or {}
    benches = load_benchmarks(settings.data_dir)
    warning = verify_data(
        meta, benches, model_file=model_path, data_dir=settings.data_dir, parts=("train", "validation")
    )
    if warning:
        log.warning(warning)
    train_sets, seed = recorded_recipe(meta)
    _train, dev = recipe_split(benches, train_sets, seed)
    if not dev:
        raise ValueError(f"the dev part of {model_path.name} is empty: nothing to calibrate int8 on")
    picks = np.linspace(0, len(dev) - 1, num=min(size, len(dev))).round().astype(int)
    return [dev[int(i)].text for i in dict.fromkeys(picks.tolist())]


def build_quantized(folder: Path, settings: Settings, model_path: Path, model_version: str) -> None:
    """Export, quantize on the dev part and save into `folder`; write the marker last."""
    import nncf
    import openvino as ov
    from transformers import AutoTokenizer

    from sentiment.model import QUERY_PREFIX

    started = time.monotonic()
    texts = calibration_texts(settings, model_path)
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_encoder(settings.model_cache_dir)))
    ids = tokenizer([QUERY_PREFIX + t for t in texts], truncation=True, max_length=settings.max_length)
    seqs = [list(s) for s in ids["input_ids"]]
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    step = settings.batch_size
    batches = [
        pad_batch([seqs[i] for i in order[k : k + step]], int(tokenizer.pad_token_id))
        for k in range(0, len(order), step)
    ]
    raw = folder / "raw.onnx"
    export_merged(settings, model_path, raw)
    model = ov.Core().read_model(str(raw))
    quantized = nncf.quantize(
        model,
        nncf.Dataset(batches),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(batches),
    )
    ov.save_model(quantized, str(folder / GRAPH_FILE))
    raw.unlink()
    _finish(
        folder,
        model_path,
        model_version,
        started,
        "int8",
        calibration=f"{len(texts)} texts of the dev part",
        nncf=nncf.__version__,
    )


def build_fp32(folder: Path, settings: Settings, model_path: Path, model_version: str) -> None:
    """Export and save the graph in fp32 into `folder` (no data needed); write the marker last."""
    import openvino as ov

    started = time.monotonic()
    raw = folder / "raw.onnx"
    export_merged(settings, model_path, raw)
    ov.save_model(ov.Core().read_model(str(raw)), str(folder / GRAPH_FILE), compress_to_fp16=False)
    raw.unlink()
    _finish(folder, model_path, model_version, started, "fp32")


def _finish(
    folder: Path, model_path: Path, model_version: str, started: float, precision: Precision, **extra: str
) -> None:
    import openvino as ov

    meta: dict[str, Any] = {
        "model_version": model_version,
        "model_file": str(model_path),
        "runtime": "openvino",
        "graph": GRAPH_FILE,
        "format": FOLDER_SUFFIX[precision],
        "precision": precision,
        **extra,
        "openvino": ov.__version__,
        "seconds": round(time.monotonic() - started, 1),
    }
    (folder / DONE_MARKER).write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    for path in folder.iterdir():
        path.chmod(0o644)


def compile_openvino(export: ExportInfo, threads: int) -> Any:
    """The model compiled for the CPU: `threads` streams of one thread each, so whole batches run
    side by side (as `onnx_encoder` does); the operators left in floating point run in fp32 on every
    host (a CPU with bf16 would otherwise pick bf16 for them, and the figures would depend on it)."""
    import openvino as ov

    return ov.Core().compile_model(
        str(export.graph),
        "CPU",
        {
            "PERFORMANCE_HINT": "THROUGHPUT",
            "NUM_STREAMS": threads,
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "f32",
            # Threads free to move between cores: the worker's event loop, database writes and the
            # broker share them (pinned: 172 against 178 mentions/s through the whole pipeline).
            "ENABLE_CPU_PINNING": False,
        },
    )
