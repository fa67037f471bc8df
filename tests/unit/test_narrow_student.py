"""A narrow student: each layer cut to some of its heads and feed-forward units computes exactly what
the whole layer computes without the rest, the heads and units that matter least are the ones cut,
and a student file names what it keeps or is refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from sentiment.student import (
    LayerWidth,
    narrow,
    stored_widths,
    width_tensors,
)
from sentiment.training.prune import choose_widths, top

HEAD = 4  # dims per head


def _tiny_bert(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=60,
        hidden_size=4 * HEAD,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=24,
    )
    config._attn_implementation = "eager"
    return BertModel(config, add_pooling_layer=False).eval()  # type: ignore[no-untyped-call]


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(1, 60, (3, 9), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 4:] = 0
    return ids, mask


def _silence(model: Any, widths: dict[int, LayerWidth]) -> None:
    """Zero the weights that read every head and unit `widths` does not keep, in place."""
    with torch.no_grad():
        for position, width in widths.items():
            layer = model.encoder.layer[position]
            heads = layer.attention.self.num_attention_heads
            for head in set(range(heads)) - set(width.heads):
                layer.attention.output.dense.weight[:, head * HEAD : (head + 1) * HEAD] = 0
            for unit in set(range(layer.intermediate.dense.out_features)) - set(width.units):
                layer.output.dense.weight[:, unit] = 0


def test_a_narrowed_layer_computes_what_the_whole_layer_computes_without_the_cut_parts() -> None:
    widths = {0: LayerWidth((1, 3), tuple(range(0, 24, 2))), 1: LayerWidth((0, 1, 2), tuple(range(5, 17)))}
    silenced, narrowed = _tiny_bert(), _tiny_bert()
    _silence(silenced, widths)
    narrow(narrowed, widths)
    ids, mask = _batch()

    with torch.no_grad():
        expected = silenced(input_ids=ids, attention_mask=mask).last_hidden_state
        got = narrowed(input_ids=ids, attention_mask=mask).last_hidden_state

    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    first = narrowed.encoder.layer[0]
    assert first.attention.self.query.out_features == 2 * HEAD
    assert first.attention.self.num_attention_heads == 2
    assert first.attention.output.dense.in_features == 2 * HEAD
    assert first.intermediate.dense.out_features == 12
    assert first.output.dense.in_features == 12
    # and the cut really changes something: the whole model differs
    with torch.no_grad():
        whole = _tiny_bert()(input_ids=ids, attention_mask=mask).last_hidden_state
    assert not torch.allclose(whole, expected, atol=1e-3)


def test_a_width_beyond_the_layer_is_refused() -> None:
    with pytest.raises(ValueError, match="keeps heads up to 4"):
        narrow(_tiny_bert(), {0: LayerWidth((0, 4), (0, 1))})
    with pytest.raises(ValueError, match="layer 2 of a 2-layer student"):
        narrow(_tiny_bert(), {2: LayerWidth((0,), (0,))})


def test_the_heads_and_units_that_add_nothing_are_the_ones_cut() -> None:
    model = _tiny_bert()
    with torch.no_grad():
        for layer in model.encoder.layer:  # head 2 and units 0..11 no longer reach the output
            layer.attention.output.dense.weight[:, 2 * HEAD : 3 * HEAD] = 0
            layer.output.dense.weight[:, :12] = 0
    ids, mask = _batch()
    seqs = [ids[i][mask[i].bool()].tolist() for i in range(len(ids))]

    widths = choose_widths(model, seqs, pad_id=0, heads=3, units=12)

    assert set(widths) == {0, 1}
    for width in widths.values():
        assert width.heads == (0, 1, 3)
        assert width.units == tuple(range(12, 24))


def test_top_keeps_the_best_in_ascending_order() -> None:
    assert top(np.array([0.1, 0.9, 0.5, 0.7]), 2) == (1, 3)
    with pytest.raises(ValueError, match="cannot keep 5 of 4"):
        top(np.array([0.1, 0.9, 0.5, 0.7]), 5)


def test_widths_survive_the_file_and_a_damaged_list_is_refused() -> None:
    widths = {0: LayerWidth((1, 3), (0, 2, 5)), 1: LayerWidth((0,), (7,))}
    stored = width_tensors(widths)

    assert stored_widths(stored) == widths
    assert stored_widths({"student.encoder.layer.0.output.dense.bias": np.zeros(3)}) is None
    only_heads = {k: v for k, v in stored.items() if not k.endswith("1.units")}
    with pytest.raises(ValueError, match="only the heads it keeps of layer 1"):
        stored_widths(only_heads)
    unsorted = {**stored, "keep.encoder.layer.0.heads": np.array([3, 1], dtype=np.int32)}
    with pytest.raises(ValueError, match="not an ascending list"):
        stored_widths(unsorted)
    repeated = {**stored, "keep.encoder.layer.0.units": np.array([2, 2], dtype=np.int32)}
    with pytest.raises(ValueError, match="not an ascending list"):
        stored_widths(repeated)


def test_the_cli_offers_every_shape_and_the_shipped_rank() -> None:
    from mentiondesk.cli import DISTILL_RANK, DISTILL_SHAPE, DistillShape
    from sentiment.training.distill import COMPRESS_RANK, SHAPES

    assert {shape.value for shape in DistillShape} == set(SHAPES)
    assert DISTILL_SHAPE.value == "narrow" and DISTILL_RANK == COMPRESS_RANK
