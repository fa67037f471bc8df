"""The torch path's encoder pass as one TorchScript graph.

The eager `BertModel` makes a few hundred Python calls per pass and takes the GIL back between its
operators. In the worker the event loop and the database thread hold the GIL for 2 to 3 ms per
mention, and a model thread that wants it back meanwhile waits: beside a Python thread busy 15% of
the time, eager passes ran 10 to 20% slower, the traced graph 0 to 9% (an AMD EPYC, two cores,
1,024 tweets). Through the whole pipeline the traced encoder carried 7 to 9% more mentions (the
README's Benchmarks section). The graph is `torch.jit.trace` of the same module, frozen: the same
operators on the same weights, so the same embeddings (tested for every batch shape the worker makes).
"""

from __future__ import annotations

import logging
import warnings
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def _last_hidden_module(model: Any) -> torch.nn.Module:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask)
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    return LastHidden()


class TracedEncoder:
    """Called like the `BertModel` it was traced from (`input_ids`, `attention_mask`, returning
    `.last_hidden_state`), with its `config`. It keeps no reference to the eager module."""

    def __init__(self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        import torch
        from torch.jit._trace import TracerWarning

        self.config = model.config
        with warnings.catch_warnings(), torch.no_grad():
            # the tracer warns about the Python branches it records as constants: for this encoder
            # they depend on the mask being given, which it always is
            warnings.simplefilter("ignore", TracerWarning)
            traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                _last_hidden_module(model).eval(), (input_ids, attention_mask), check_trace=False
            )
            self.graph = torch.jit.freeze(traced)

    def __call__(self, *, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(last_hidden_state=self.graph(input_ids, attention_mask))


def traced_or_eager(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
    """The traced graph of `model`, or `model` itself (reported) when it cannot be traced."""
    try:
        return TracedEncoder(model, input_ids, attention_mask)
    except Exception as exc:  # an encoder the tracer cannot follow still serves, eagerly
        log.warning("the encoder runs eagerly: tracing it failed (%s: %s)", type(exc).__name__, exc)
        return model
