"""The distilled encoder of the fast path: half of e5-small's layers, trained to embed like the whole.

A student keeps the built encoder's embeddings (token, position, type) and its own `len(layers)`
transformer layers, initialised from the fine-tuned encoder's layers `layers` and then trained to
reproduce its pooled embedding and the head's logits (`sentiment.training.distill`). Half the layers
is half the arithmetic per token, which is where the fast path's speed comes from on a CPU without
int8 dot-product instructions (see the README's model section).

Stored in its own model file (`weights/fast.safetensors` for the shipped model): the head, a
calibration refitted on the dev part for the student's logits, the layers' weights in fp16 under
`student.<parameter path>`, and `student_of`, the version of the model it was distilled from. It
serves only that model: a retrained model (another version) runs the whole encoder on the fast path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

PREFIX = "student."
STUDENT_FILE = Path(__file__).resolve().parent / "weights" / "fast.safetensors"


def layer_tensors(student: torch.nn.Module) -> dict[str, npt.NDArray[np.float16]]:
    """The student's transformer layers as stored: fp16, under `student.encoder.layer.<j>.…`."""
    return {
        f"{PREFIX}{name}": np.ascontiguousarray(param.detach().float().numpy(), dtype=np.float16)
        for name, param in student.named_parameters()
        if name.startswith("encoder.layer.")
    }


def student_layers(meta: Mapping[str, str] | None) -> list[int] | None:
    """The teacher layers a student file's layers were initialised from, or None for a plain model."""
    raw = (meta or {}).get("student_layers")
    return [int(x) for x in raw.split(",")] if raw else None


def shrink(model: Any, layers: Sequence[int]) -> Any:
    """`model` (a BertModel) cut to the transformer layers `layers`, in that order, in place."""
    import torch

    kept = [model.encoder.layer[i] for i in layers]
    model.encoder.layer = torch.nn.ModuleList(kept)
    model.config.num_hidden_layers = len(kept)
    return model


def load_student(folder: Path, tensors: Mapping[str, npt.NDArray[Any]], n_layers: int) -> Any:
    """A BertModel of the built encoder's embeddings and the stored layers (fp32), in eval mode."""
    import torch
    from transformers import BertModel

    model = shrink(
        BertModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager"),
        list(range(n_layers)),
    )
    state = {
        name[len(PREFIX) :]: torch.from_numpy(np.asarray(value, dtype=np.float32))
        for name, value in tensors.items()
        if name.startswith(PREFIX)
    }
    expected = {n for n, _ in model.named_parameters() if n.startswith("encoder.layer.")}
    if set(state) != expected:
        missing = sorted(expected - set(state))[:3]
        extra = sorted(set(state) - expected)[:3]
        raise ValueError(
            f"student file does not match a {n_layers}-layer encoder: missing {missing}, extra {extra}"
        )
    model.load_state_dict(state, strict=False)
    return model.eval()


def stored_layer_count(tensors: Mapping[str, npt.NDArray[Any]]) -> int:
    """How many transformer layers a student file's tensors hold."""
    found = {
        name[len(PREFIX) :].split(".")[2] for name in tensors if name.startswith(PREFIX + "encoder.layer.")
    }
    if not found:
        raise ValueError("no student layers in this file")
    return len(found)


def student_of(model_path: Path, version: str) -> Path | None:
    """The student file beside `model_path` distilled from that model (`version`), or None.

    A student of another version (the model was retrained since) is not used: it would serve the
    old model's behaviour under the new one's name.
    """
    from safetensors import safe_open

    candidate = model_path.parent / STUDENT_FILE.name
    if candidate == model_path or not candidate.is_file():
        return None
    with safe_open(str(candidate), framework="numpy") as f:
        meta = dict(f.metadata() or {})
    if meta.get("student_of") != version:
        log.info("%s was distilled from %s, not %s: not used", candidate, meta.get("student_of"), version)
        return None
    return candidate
