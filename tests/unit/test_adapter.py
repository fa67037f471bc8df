"""The low-rank adapter: merged weights compute what the adapted layers computed in training, and
the per-language negative threshold decides the label."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from sentiment.adapter import Adapter, is_target
from sentiment.model import scores_from_probs


def _tiny_bert() -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32
    )
    model: BertModel = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    model.eval()  # type: ignore[no-untyped-call]
    return model


def test_targets_are_the_encoder_linears_only() -> None:
    model = _tiny_bert()
    targets = [p for p, m in model.named_modules() if is_target(p)]
    assert len(targets) == 2 * 6
    assert all(isinstance(model.get_submodule(p), torch.nn.Linear) for p in targets)
    assert not is_target("embeddings.word_embeddings")
    assert not is_target("encoder.layer.0.attention.output.LayerNorm")


def test_merged_adapter_equals_the_low_rank_forward_and_survives_fp16_storage() -> None:
    model = _tiny_bert()
    rng = np.random.default_rng(1)
    rank, scale = 4, 2.0
    pairs = {}
    for path, module in model.named_modules():
        if is_target(path):
            assert isinstance(module, torch.nn.Linear)
            a = rng.normal(0, 0.1, (rank, module.in_features)).astype(np.float32)
            b = rng.normal(0, 0.1, (module.out_features, rank)).astype(np.float32)
            pairs[path] = (a, b)
    adapter = Adapter(pairs, scale)
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.no_grad():
        before = model(input_ids=ids).last_hidden_state.clone()
        # The adapted forward, layer by layer: base(x) + scale * x A^T B^T.
        hooks = []
        for path, (a, b) in pairs.items():
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)

            def hook(
                _m: torch.nn.Module,
                inp: tuple[torch.Tensor, ...],
                out: torch.Tensor,
                ta: torch.Tensor = ta,
                tb: torch.Tensor = tb,
            ) -> torch.Tensor:
                delta: torch.Tensor = inp[0] @ ta.T @ tb.T * scale
                return out + delta

            hooks.append(model.get_submodule(path).register_forward_hook(hook))
        adapted = model(input_ids=ids).last_hidden_state.clone()
        for h in hooks:
            h.remove()
        stored = Adapter.from_tensors(adapter.tensors(), scale)
        assert stored is not None
        assert stored.merge_into(model) == 12
        merged = model(input_ids=ids).last_hidden_state
    assert not torch.allclose(before, adapted, atol=1e-3)
    assert torch.allclose(merged, adapted, atol=2e-3)


def test_a_file_without_adapter_tensors_has_no_adapter() -> None:
    assert Adapter.from_tensors({"layer0.weight": np.zeros((3, 4), np.float32)}, 2.0) is None


def test_an_adapter_for_a_missing_layer_is_refused() -> None:
    adapter = Adapter({"encoder.layer.9.attention.self.query": (np.zeros((2, 16)), np.zeros((16, 2)))}, 1.0)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="not a linear layer"):
        adapter.merge_into(_tiny_bert())


def test_the_negative_threshold_decides_the_label() -> None:
    probs = np.array([[0.40, 0.45, 0.15], [0.40, 0.45, 0.15], [0.30, 0.20, 0.50], [0.6, 0.3, 0.1]])
    plain = [s.label for s in scores_from_probs(probs)]
    assert plain == ["neutral", "neutral", "positive", "negative"]
    decided = [s.label for s in scores_from_probs(probs, [0.35, 0.5, None, 0.7])]
    assert decided == ["negative", "neutral", "positive", "neutral"]
    assert scores_from_probs(probs, [0.35, 0.5, None, 0.7])[0].negativity == pytest.approx(0.40)
