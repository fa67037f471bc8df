"""The distilled encoder of the fast path: half of e5-small, trained to embed like the whole.

A student keeps the built encoder's embeddings (token, position, type) and its own `len(layers)`
transformer layers, initialised from the fine-tuned encoder's layers `layers` (whole, or cut to some
of their heads and feed-forward units) and then trained to reproduce its pooled embedding and the
head's logits (`sentiment.training.distill`). Fewer layers, or narrower ones, are less arithmetic per
token, which is where the fast path's speed comes from on a CPU without int8 dot-product instructions
(see the README's model section).

Stored in its own model file (`weights/fast.safetensors` for the shipped model), small: each adapted
linear layer as a low-rank delta from the built encoder's layer it started from (`lora.<module path>.a`
and `.b`, scale 1, named as `sentiment.adapter` names the fine-tuned model's), its factors in int8
with a per-row fp16 scale under `scale.lora.<module path>.a|b` (half the bytes of fp16 factors of the
same rank; files with fp16 factors load too); the layers' biases and layer norms in fp16 under
`student.<parameter path>`; the head; a calibration refitted on the dev part for the student's logits;
and in the metadata `student_layers` (the built encoder's layers) and `student_of` (the version of the
model it was distilled from). It serves only that model: a retrained model (another version) runs the
whole encoder on the fast path.

A narrow student also keeps only some attention heads and feed-forward units of each layer: the file
then names them, `keep.encoder.layer.<i>.heads` and `.units` (int32 indices into the built encoder's
layer), and its deltas and biases have the cut shapes. The built encoder's layer is cut the same way
before its deltas are added, so the stored network is exactly the trained one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sentiment.adapter import PREFIX as DELTA_PREFIX
from sentiment.adapter import Adapter, is_target

log = logging.getLogger(__name__)

PREFIX = "student."
KEEP_PREFIX = "keep."
"""A narrow student's kept heads and units per layer: `keep.encoder.layer.<i>.heads|units` (int32)."""
SCALE_PREFIX = "scale."
"""Per-row scales of a student's int8 delta factors: `scale.lora.<module path>.a` (fp16)."""
STUDENT_FILE = Path(__file__).resolve().parent / "weights" / "fast.safetensors"
ADAPTER_SCALE = 1.0
"""A student's low-rank deltas carry their scale in B (alpha = rank)."""


def student_layers(meta: Mapping[str, str] | None) -> list[int] | None:
    """The built encoder's layers a student file's layers start from, or None for a plain model."""
    raw = (meta or {}).get("student_layers")
    return [int(x) for x in raw.split(",")] if raw else None


@dataclass(frozen=True)
class LayerWidth:
    """The attention heads and feed-forward units a narrow student keeps of one layer (indices into
    the built encoder's layer, ascending)."""

    heads: tuple[int, ...]
    units: tuple[int, ...]


Widths = Mapping[int, LayerWidth]
"""A narrow student's kept heads and units, by its layer's position (0 for its first layer)."""


def width_tensors(widths: Widths) -> dict[str, npt.NDArray[np.int32]]:
    """As stored in a student file (`KEEP_PREFIX`)."""
    out: dict[str, npt.NDArray[np.int32]] = {}
    for position, width in widths.items():
        out[f"{KEEP_PREFIX}encoder.layer.{position}.heads"] = np.array(width.heads, dtype=np.int32)
        out[f"{KEEP_PREFIX}encoder.layer.{position}.units"] = np.array(width.units, dtype=np.int32)
    return out


def stored_widths(tensors: Mapping[str, npt.NDArray[Any]]) -> dict[int, LayerWidth] | None:
    """The kept heads and units a student file names, or None for a student of whole layers;
    ValueError for a layer with only one of the two lists, or a list that is not ascending and unique."""
    found: dict[int, dict[str, tuple[int, ...]]] = {}
    for name, value in tensors.items():
        if not name.startswith(KEEP_PREFIX + "encoder.layer."):
            continue
        parts = name[len(KEEP_PREFIX) :].split(".")
        if len(parts) != 4 or not parts[2].isdigit() or parts[3] not in {"heads", "units"}:
            raise ValueError(f"student file's {name} is not a kept-heads or kept-units list")
        indices = tuple(int(i) for i in np.asarray(value).reshape(-1))
        if not indices or list(indices) != sorted(set(indices)) or indices[0] < 0:
            raise ValueError(f"student file's {name} is not an ascending list of distinct indices")
        found.setdefault(int(parts[2]), {})[parts[3]] = indices
    if not found:
        return None
    widths = {}
    for position, kept in sorted(found.items()):
        if set(kept) != {"heads", "units"}:
            raise ValueError(f"student file names only the {', '.join(kept)} it keeps of layer {position}")
        widths[position] = LayerWidth(kept["heads"], kept["units"])
    return widths


@dataclass(frozen=True)
class StudentWeights:
    """A student file's tensors and the built encoder's layers that its deltas apply to."""

    tensors: Mapping[str, npt.NDArray[Any]]
    layers: tuple[int, ...]

    @property
    def widths(self) -> dict[int, LayerWidth] | None:
        """The heads and units each layer keeps, for a narrow student (`stored_widths`)."""
        return stored_widths(self.tensors)

    @classmethod
    def of(cls, tensors: Mapping[str, npt.NDArray[Any]], meta: Mapping[str, str] | None) -> StudentWeights:
        """The student in a model file's tensors and metadata; ValueError when it holds none."""
        try:
            layers = student_layers(meta)
        except ValueError as exc:
            raise ValueError(f"student file's student_layers is not a list of layer numbers: {exc}") from exc
        if not layers:
            raise ValueError("not a student file: its metadata names no student_layers")
        return cls(tensors, tuple(layers))


def kept_parameter(name: str) -> bool:
    """True for a student's parameters stored whole: its layers' biases and layer norms (the linear
    layers' weights are stored as deltas)."""
    if not name.startswith("encoder.layer."):
        return False
    module, _, kind = name.rpartition(".")
    return not (kind == "weight" and is_target(module))


def quantize_rows(matrix: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float16]]:
    """Symmetric int8 per row: `matrix ≈ q * scale[:, None]` (a zero row gets scale 1)."""
    values = np.asarray(matrix, dtype=np.float32)
    peak = np.abs(values).max(axis=1) if values.size else np.zeros(values.shape[0], np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float16)
    q = np.rint(values / scale.astype(np.float32)[:, None])
    return np.clip(q, -127, 127).astype(np.int8), scale


def student_tensors(student: Any, deltas: Adapter) -> dict[str, npt.NDArray[Any]]:
    """As stored: `deltas` (scale 1) as int8 factors with per-row scales, and the student's kept
    parameters in fp16."""
    if deltas.scale != ADAPTER_SCALE:
        raise ValueError(f"a student's deltas are stored with scale {ADAPTER_SCALE}, not {deltas.scale}")
    out: dict[str, npt.NDArray[Any]] = {}
    for path, (a, b) in deltas.pairs.items():
        for side, factor in (("a", a), ("b", b)):
            name = f"{DELTA_PREFIX}{path}.{side}"
            out[name], out[SCALE_PREFIX + name] = quantize_rows(factor)
    for name, param in student.named_parameters():
        if kept_parameter(name):
            out[PREFIX + name] = np.ascontiguousarray(param.detach().float().numpy(), dtype=np.float16)
    return out


def dequantized(tensors: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    """A student file's tensors with its int8 factors restored to fp32 (the scales dropped); ValueError
    for an int8 factor without a finite scale per row (a damaged file would serve NaN scores)."""
    out: dict[str, npt.NDArray[Any]] = {}
    for name, value in tensors.items():
        if name.startswith(SCALE_PREFIX):
            continue
        if value.dtype == np.int8:
            scale = tensors.get(SCALE_PREFIX + name)
            if scale is None or scale.shape != (value.shape[0],):
                raise ValueError(f"student file's int8 factor {name} has no scale for each of its rows")
            if not np.isfinite(scale).all():
                raise ValueError(f"student file's int8 factor {name} has a scale that is not a number")
            out[name] = value.astype(np.float32) * np.asarray(scale, dtype=np.float32)[:, None]
        else:
            out[name] = value
    return out


def shrink(model: Any, layers: Sequence[int]) -> Any:
    """`model` (a BertModel) cut to the transformer layers `layers`, in that order, in place."""
    import torch

    kept = [model.encoder.layer[i] for i in layers]
    model.encoder.layer = torch.nn.ModuleList(kept)
    model.config.num_hidden_layers = len(kept)
    return model


def _sliced(linear: Any, rows: Any = None, columns: Any = None) -> Any:
    """A copy of the torch Linear `linear` keeping its output `rows` and input `columns`."""
    import torch

    weight, bias = linear.weight.detach(), linear.bias.detach()
    if rows is not None:
        weight, bias = weight[rows], bias[rows]
    if columns is not None:
        weight = weight[:, columns]
    out = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        out.weight.copy_(weight)
        out.bias.copy_(bias)
    return out


def narrow(model: Any, widths: Widths) -> Any:
    """`model` (a BertModel, eager attention) with each layer cut to the heads and units `widths`
    keeps, in place; ValueError for an index the layer does not have."""
    import torch

    layers = model.encoder.layer
    for position, width in widths.items():
        if not 0 <= position < len(layers):
            raise ValueError(f"student widths name layer {position} of a {len(layers)}-layer student")
        layer = layers[position]
        attention = layer.attention.self
        size = int(attention.attention_head_size)
        heads_before = int(attention.num_attention_heads)
        units_before = int(layer.intermediate.dense.out_features)
        if width.heads[-1] >= heads_before or width.units[-1] >= units_before:
            raise ValueError(
                f"layer {position} keeps heads up to {width.heads[-1]} and units up to {width.units[-1]}"
                f" of {heads_before} heads and {units_before} units"
            )
        dims = torch.tensor([h * size + d for h in width.heads for d in range(size)])
        units = torch.tensor(width.units)
        for name in ("query", "key", "value"):
            setattr(attention, name, _sliced(getattr(attention, name), rows=dims))
        attention.num_attention_heads = len(width.heads)
        attention.all_head_size = len(width.heads) * size
        layer.attention.output.dense = _sliced(layer.attention.output.dense, columns=dims)
        layer.intermediate.dense = _sliced(layer.intermediate.dense, rows=units)
        layer.output.dense = _sliced(layer.output.dense, columns=units)
    return model


def cut_encoder(folder: Path, layers: Sequence[int], widths: Widths | None = None) -> Any:
    """The built encoder (a BertModel, eager attention) cut to its layers `layers`, and each of them to
    the heads and units `widths` keeps; ValueError for a layer it does not have."""
    from transformers import BertModel

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager")
    count = len(model.encoder.layer)
    if not layers or any(not 0 <= i < count for i in layers):
        raise ValueError(f"student layers {list(layers)} are not layers of a {count}-layer encoder")
    shrink(model, layers)
    return narrow(model, widths) if widths else model


def load_student(folder: Path, student: StudentWeights) -> Any:
    """A BertModel of the built encoder cut to the student's layers, deltas merged (fp32), in eval mode."""
    import torch

    tensors = dequantized(student.tensors)
    stored = stored_layer_count(tensors)
    if stored != len(student.layers):
        raise ValueError(f"student file holds {stored} layers, its metadata names {len(student.layers)}")
    model = cut_encoder(folder, student.layers, student.widths)
    adapter = Adapter.from_tensors(tensors, ADAPTER_SCALE)
    expected_deltas = {p for p, m in model.named_modules() if is_target(p) and isinstance(m, torch.nn.Linear)}
    if adapter is None or set(adapter.pairs) != expected_deltas:
        raise ValueError("student file does not hold a delta for every adapted layer of its encoder")
    adapter.merge_into(model)
    state = {
        name[len(PREFIX) :]: torch.from_numpy(np.asarray(value, dtype=np.float32))
        for name, value in tensors.items()
        if name.startswith(PREFIX)
    }
    expected = {n for n, _ in model.named_parameters() if kept_parameter(n)}
    if set(state) != expected:
        missing = sorted(expected - set(state))[:3]
        extra = sorted(set(state) - expected)[:3]
        raise ValueError(
            f"student file does not match a {stored}-layer encoder: missing {missing}, extra {extra}"
        )
    model.load_state_dict(state, strict=False)
    return model.eval()


def stored_layer_count(tensors: Mapping[str, npt.NDArray[Any]]) -> int:
    """How many transformer layers a student file's tensors hold."""
    found = {
        name.split(".")[3]
        for name in tensors
        if name.startswith((PREFIX + "encoder.layer.", "lora.encoder.layer."))
    }
    if not found:
        raise ValueError("no student layers in this file")
    return len(found)


def student_of(model_path: Path, version: str) -> Path | None:
    """The student file beside `model_path` distilled from that model (`version`), or None.

    A student of another version (the model was retrained since) is not used: it would serve the
    old model's behaviour under the new one's name. Nor is a file that cannot be read (reported).
    """
    from safetensors import SafetensorError, safe_open

    candidate = model_path.parent / STUDENT_FILE.name
    if candidate == model_path or not candidate.is_file():
        return None
    try:
        with safe_open(str(candidate), framework="numpy") as f:
            meta = dict(f.metadata() or {})
    except (OSError, SafetensorError) as exc:
        log.error("%s is not a readable model file (%s): the fast path does not use it", candidate, exc)
        return None
    if meta.get("student_of") != version:
        log.info("%s was distilled from %s, not %s: not used", candidate, meta.get("student_of"), version)
        return None
    return candidate
