"""Export the fine-tuned encoder for the fast inference path (ONNX Runtime), once per model version.

Steps, all offline and at build time (`mentiondesk model export`, run by `make encoder`):
1. the built encoder with the model file's adapter merged in, as `E5Encoder` serves it, wrapped so the
   graph ends with the mean pooling and L2 normalisation (text ids in, embedding out);
2. `torch.onnx.export` (the TorchScript exporter, eager attention, dynamic batch and length);
3. ONNX Runtime's transformer optimizer fuses it for BERT (embedding + layer norm, attention, bias +
   GELU, skip + layer norm);
4. the session runs it with every ONNX Runtime graph optimisation (ORT_ENABLE_ALL).

The graph stays fp32. Static int8 (QDQ on the feed-forward and attention-output MatMuls, per-channel
weights, min-max ranges calibrated on 256 dev-part texts) was measured: 1.25 times the fused fp32
speed, but embeddings at cosine 0.875 to fp32 (min 0.55), far past the accuracy bar, so it is not used.

The result lives in `<MD_MODEL_CACHE_DIR>/onnx/<model version>-<encoder build>-x<EXPORT_FORMAT>/`:
a retrained model (another version) gets its own export. Like the encoder build, it is written into a
staging folder renamed into place, so a crash never leaves a half-written export under the final name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sentiment.encoder_build import encoder_fingerprint, ensure_encoder

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
"""Bump when the export's output changes, so old exports are not reused."""
GRAPH_FILE = "model.onnx"
KEEP_EXPORTS = 3
"""Exports kept in the cache (the newest; about 470 MB each): the model in force and recent ones."""
DONE_MARKER = "mentiondesk-export.json"
HEADS, HIDDEN = 12, 384  # multilingual-e5-small


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What `DONE_MARKER` records about an export."""

    folder: Path
    model_version: str
    precision: str  # "fp32" (ONNX Runtime, OpenVINO) | "int8" (OpenVINO)
    meta: dict[str, Any]

    @property
    def graph(self) -> Path:
        return self.folder / str(self.meta.get("graph", GRAPH_FILE))


def export_dir(cache_dir: Path, model_version: str) -> Path:
    """Where the export of `model_version` is (or will be) kept."""
    return Path(cache_dir) / "onnx" / f"{model_version}-{encoder_fingerprint()}-x{EXPORT_FORMAT}"


def read_export(folder: Path) -> ExportInfo | None:
    """The finished export in `folder`, or None."""
    marker = folder / DONE_MARKER
    if not marker.is_file():
        return None
    meta = json.loads(marker.read_text("utf-8"))
    found = ExportInfo(folder, str(meta["model_version"]), str(meta["precision"]), meta)
    return found if found.graph.is_file() else None


def ensure_export(settings: Settings, model_path: Path, model_version: str) -> ExportInfo:
    """The export of the model file at `model_path`, building it first if it is missing."""
    return build_once(
        export_dir(settings.model_cache_dir, model_version),
        lambda staging: build_export(staging, settings, model_path, model_version),
    )


def build_once(target: Path, build: Callable[[Path], object]) -> ExportInfo:
    """The finished export in `target`, else `build(staging)` into a staging folder renamed into place
    (a crash never leaves a half-written export under the final name; of two processes building at
    once, the first to finish wins); older exports beside it are pruned."""
    found = read_export(target)
    if found is not None:
        return found
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(staging)
        staging.chmod(0o755)
        try:
            os.rename(staging, target)
        except OSError:
            if read_export(target) is None:  # another process finished first: use theirs
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    found = read_export(target)
    assert found is not None
    prune_exports(target.parent, keep=target)
    return found


def prune_exports(folder: Path, keep: Path, newest: int = KEEP_EXPORTS) -> list[Path]:
    """Remove all but the `newest` exports (by build time) in `folder`, never `keep`; returns the
    removed ones. Each export is about 470 MB, and every retrain makes a new one. A worker still
    serving a removed export keeps it open (the file is gone only from the folder)."""
    built = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and read_export(p)),
        key=lambda p: (p / DONE_MARKER).stat().st_mtime,
        reverse=True,
    )
    removed = [p for p in built[newest:] if p != keep]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _remove_stale_staging(target: Path, max_age_s: float = 3600.0) -> None:
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and now - leftover.stat().st_mtime > max_age_s:
                shutil.rmtree(leftover, ignore_errors=True)


# --------------------------------------------------------------------------- build


def build_export(folder: Path, settings: Settings, model_path: Path, model_version: str) -> ExportInfo:
    """Export and fuse into `folder`; write the marker last."""
    started = time.monotonic()
    raw = folder / "raw.onnx"
    fused = folder / "fused.onnx"
    heads, hidden = export_merged(settings, model_path, raw)
    fused_ops = _fuse(raw, fused, heads, hidden)
    raw.unlink()
    meta: dict[str, Any] = {
        "model_version": model_version,
        "model_file": str(model_path),
        "export_format": EXPORT_FORMAT,
        "fused_operators": fused_ops,
        "precision": "fp32",
    }
    fused.replace(folder / GRAPH_FILE)
    meta["seconds"] = round(time.monotonic() - started, 1)
    (folder / DONE_MARKER).write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    for path in folder.iterdir():
        path.chmod(0o644)
    return ExportInfo(folder, model_version, str(meta["precision"]), meta)


def export_merged(settings: Settings, model_path: Path, out: Path) -> tuple[int, int]:
    """The served encoder (adapter merged, or a student's layers) plus pooling, as an ONNX graph with
    dynamic batch and length; returns its attention heads per layer and their width in all, the width of
    the query, key and value projections (0, 0 when its layers differ: the fusion then reads them off
    each layer)."""
    import torch
    from safetensors.numpy import load_file
    from transformers import BertModel

    from sentiment.adapter import Adapter
    from sentiment.model import Head
    from sentiment.student import StudentWeights, load_student

    torch.set_num_threads(settings.torch_threads)
    folder = ensure_encoder(settings.model_cache_dir)
    tensors = load_file(str(model_path))
    meta = Head.load(model_path).meta or {}
    if meta.get("student_of"):
        model = load_student(folder, StudentWeights.of(tensors, meta))
    else:
        model = BertModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager")
        scale = meta.get("lora_scale")
        adapter = Adapter.from_tensors(tensors, float(scale)) if scale else None
        if adapter is not None:
            adapter.merge_into(model)
    wrapped = _Pooled(model).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    dynamic = {0: "batch", 1: "length"}
    # The tracer warns about Python-level branches in transformers' mask code; they are constant for
    # a padding mask, and the exported graph is checked against torch by the tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (ids, mask),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    shapes = {
        (int(layer.attention.self.num_attention_heads), int(layer.attention.self.all_head_size))
        for layer in model.encoder.layer
    }
    return shapes.pop() if len(shapes) == 1 else (0, 0)


def _pooled_module() -> type:
    import torch

    class Pooled(torch.nn.Module):
        """BertModel -> mean over the attention mask -> L2 normalised (as `E5Encoder.embed`)."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)

    return Pooled


def _Pooled(bert: Any) -> Any:  # a class made on demand, so torch is imported only to export
    return _pooled_module()(bert)


def _fuse(raw: Path, out: Path, heads: int = HEADS, hidden: int = HIDDEN) -> dict[str, int]:
    """ONNX Runtime's BERT fusions for `heads` attention heads per layer, `hidden` wide in all (a narrow
    student's are cut: its fused Attention is checked against torch by the tests; 0 and 0: read off
    each layer); returns how many of each fused operator the graph now has."""
    from onnxruntime.transformers import optimizer

    # Told a narrow student's cut attention width, the fusion warns once per layer that the width
    # differs from the input's (384), then fuses as asked: that is intended, so the warning is muted.
    for name in ("fusion_attention", "onnxruntime.transformers.fusion_attention"):
        logging.getLogger(name).setLevel(logging.ERROR)
    model = optimizer.optimize_model(
        str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
    )
    stats = {k: int(v) for k, v in model.get_fused_operator_statistics().items() if v}
    model.save_model_to_file(str(out))
    return stats


def pad_batch(
    seqs: Sequence[Sequence[int]], pad_id: int, multiple: int = 1
) -> dict[str, npt.NDArray[np.int64]]:
    """Token ids padded to the longest (rounded up to a multiple of `multiple`), and the attention
    mask: the graph's two inputs. Padding is masked out, so it changes no row's embedding."""
    longest = max(len(s) for s in seqs)
    width = -(-longest // multiple) * multiple
    ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def make_session(graph: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with every graph optimisation, `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # No busy-waiting between runs: on a small machine the spinning threads would take the cores
    # from the worker's event loop, the broker client and the database writes.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
