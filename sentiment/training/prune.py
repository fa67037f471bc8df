"""Choose what a narrow student keeps of each layer: the attention heads and feed-forward units that
contribute most to the layer's output on real texts.

A unit's score is its mean absolute activation (after GELU, over the texts' real tokens) times the
norm of the output weights that read it; a head's, the mean norm of its context vector times the
norm of the attention-output weights that read it. Both measure how much the unit or head adds to
the residual stream, which is what cutting it takes away. Measured on the fine-tuned encoder
(2026-12-03): keeping 6 of 12 heads and 768 of 1,536 units per layer this way and distilling
left the student at dev cosine 0.908 to the whole model, against 0.88 to 0.90 for six whole layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sentiment.model import _pad
from sentiment.student import LayerWidth


def layer_scores(
    model: Any, seqs: Sequence[Sequence[int]], pad_id: int, batch: int = 32
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer of `model` (a BertModel), the scores of its heads and of its feed-forward units."""
    import torch

    layers = model.encoder.layer
    head_sums = [torch.zeros(int(layer.attention.self.num_attention_heads)) for layer in layers]
    unit_sums = [torch.zeros(int(layer.intermediate.dense.out_features)) for layer in layers]
    tokens = 0
    mask_now: list[torch.Tensor] = []
    hooks = []

    def on_units(position: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
            real = mask_now[0].unsqueeze(-1)
            unit_sums[position] += (output.abs() * real).sum(dim=(0, 1))

        return hook

    def on_context(position: int, size: int) -> Any:
        def hook(_module: Any, inputs: tuple[torch.Tensor, ...]) -> None:
            context = inputs[0]
            per_head = context.reshape(*context.shape[:2], -1, size).norm(dim=-1)
            head_sums[position] += (per_head * mask_now[0].unsqueeze(-1)).sum(dim=(0, 1))

        return hook

    for position, layer in enumerate(layers):
        size = int(layer.attention.self.attention_head_size)
        hooks.append(layer.intermediate.register_forward_hook(on_units(position)))
        hooks.append(layer.attention.output.dense.register_forward_pre_hook(on_context(position, size)))
    try:
        model.eval()
        with torch.no_grad():
            for start in range(0, len(seqs), batch):
                ids, mask = _pad(list(seqs[start : start + batch]), pad_id)
                mask_now[:] = [mask.float()]
                tokens += int(mask.sum())
                model(input_ids=ids, attention_mask=mask)
    finally:
        for hook in hooks:
            hook.remove()
    scores = []
    for position, layer in enumerate(layers):
        size = int(layer.attention.self.attention_head_size)
        reading = layer.attention.output.dense.weight.detach()
        head_norms = reading.reshape(reading.shape[0], -1, size).norm(dim=(0, 2))
        unit_norms = layer.output.dense.weight.detach().norm(dim=0)
        scores.append(
            (
                (head_sums[position] / max(tokens, 1) * head_norms).numpy(),
                (unit_sums[position] / max(tokens, 1) * unit_norms).numpy(),
            )
        )
    return scores


def top(scores: np.ndarray, keep: int) -> tuple[int, ...]:
    """The `keep` best-scoring indices, ascending (ties to the lower index)."""
    if not 0 < keep <= len(scores):
        raise ValueError(f"cannot keep {keep} of {len(scores)}")
    order = np.argsort(-np.asarray(scores), kind="stable")[:keep]
    return tuple(sorted(int(i) for i in order))


def choose_widths(
    model: Any, seqs: Sequence[Sequence[int]], pad_id: int, heads: int, units: int
) -> dict[int, LayerWidth]:
    """What each layer of `model` keeps: its `heads` best heads and `units` best units."""
    return {
        position: LayerWidth(top(head_scores, heads), top(unit_scores, units))
        for position, (head_scores, unit_scores) in enumerate(layer_scores(model, seqs, pad_id))
    }
