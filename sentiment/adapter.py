"""Low-rank adapters (LoRA) for the e5-small encoder: stored small, merged into the weights at load.

A fine-tuned encoder differs from the built one by `scale * B @ A` per adapted linear layer
(A: rank x in, B: out x rank). Only A and B are committed (fp16, a few MB); at load time they are
added into the dense weights, so serving runs exactly the architecture and speed of the plain encoder.

Tensor names in the model file: `lora.<module path>.a` and `lora.<module path>.b`, the module path as
in `BertModel.named_modules()`, e.g. `encoder.layer.3.attention.self.query`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

PREFIX = "lora."
TARGETS: tuple[str, ...] = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
"""Linear layers adapted in every encoder layer: attention projections and the feed-forward pair."""


def is_target(module_path: str) -> bool:
    """True for the adapted linear layers of the encoder (not the embeddings)."""
    if not module_path.startswith("encoder.layer."):
        return False
    rest = module_path.split(".", 3)[3] if module_path.count(".") >= 3 else ""
    return rest in TARGETS


@dataclass(frozen=True)
class Adapter:
    """The low-rank deltas of one fine-tuned encoder."""

    pairs: Mapping[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]  # path -> (A, B)
    scale: float  # alpha / rank

    def tensors(self) -> dict[str, npt.NDArray[np.float16]]:
        """As stored: fp16 halves the file; the merge is done in fp32."""
        out: dict[str, npt.NDArray[np.float16]] = {}
        for path, (a, b) in self.pairs.items():
            out[f"{PREFIX}{path}.a"] = np.ascontiguousarray(a, dtype=np.float16)
            out[f"{PREFIX}{path}.b"] = np.ascontiguousarray(b, dtype=np.float16)
        return out

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, npt.NDArray[Any]], scale: float) -> Adapter | None:
        """The adapter in a model file's tensors, or None when the file has none (a head only)."""
        paths = sorted({k[len(PREFIX) : -2] for k in tensors if k.startswith(PREFIX)})
        if not paths:
            return None
        pairs = {
            p: (
                np.asarray(tensors[f"{PREFIX}{p}.a"], dtype=np.float32),
                np.asarray(tensors[f"{PREFIX}{p}.b"], dtype=np.float32),
            )
            for p in paths
        }
        return cls(pairs, scale)

    def merge_into(self, model: torch.nn.Module) -> int:
        """Add every delta into its linear layer's weight, in place; returns how many were merged."""
        import torch

        modules = dict(model.named_modules())
        merged = 0
        with torch.no_grad():
            for path, (a, b) in self.pairs.items():
                layer = modules.get(path)
                if not isinstance(layer, torch.nn.Linear):
                    raise ValueError(f"adapter names {path!r}, which is not a linear layer of the encoder")
                delta = torch.from_numpy(b) @ torch.from_numpy(a) * self.scale
                if tuple(delta.shape) != tuple(layer.weight.shape):
                    raise ValueError(
                        f"adapter for {path!r} has shape {tuple(delta.shape)}, "
                        f"the layer {tuple(layer.weight.shape)}"
                    )
                layer.weight.add_(delta.to(layer.weight.dtype))
                merged += 1
        return merged
