"""The fast inference path's encoder: the exported graph (`onnx_export`) run by ONNX Runtime.

Same contract as `model.E5Encoder`: `query: ` + text, cut at `max_length` tokens, length-sorted batches
of `batch_size`, one L2-normalised 384-wide embedding per text. torch is not imported to serve.

The cores run whole batches side by side (one single-threaded run per core, on one session), not one
batch split across them: a run split across cores waits at every operator for its slowest thread, so
any other work on the machine (the worker's event loop and database writes, the broker) stalls both
cores at once. A call with fewer batches than cores has its batches halved first, so a lone batch
still uses every core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from sentiment.model import QUERY_PREFIX, embed_side_by_side
from sentiment.onnx_export import HIDDEN, ExportInfo, make_session, pad_batch

F32Array = npt.NDArray[np.float32]


class OnnxEncoder:
    """multilingual-e5-small with the adapter merged, exported and fused, on ONNX Runtime."""

    inference = "fast"
    runtime = "onnxruntime fp32"
    pad_multiple = 1
    """Batches are padded to a multiple of this many tokens (1: to the longest text)."""
    row_multiple = 1
    """Batches of more than two texts are filled up to a multiple of this many rows (1: as they are)."""

    def __init__(
        self, export: ExportInfo, tokenizer_folder: Path, max_length: int, batch_size: int, threads: int
    ) -> None:
        from transformers import AutoTokenizer

        self.export = export
        self.folder = tokenizer_folder
        self.max_length = max_length
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder))
        self.threads = threads
        self._open(export)
        self.pad_id = int(self.tokenizer.pad_token_id)
        # One inference here, before the runner threads exist: the runtime's Python bridge sets up
        # its numpy access on first use, and two runners doing that at once deadlocked (OpenVINO,
        # seen: both stuck in the input dispatch of the first batches after loading, for good).
        self._run(pad_batch([[self.pad_id]], self.pad_id, self.pad_multiple))
        self._lock = threading.Lock()
        self._single = threading.Lock()
        self._runners = (
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="md-onnx") if threads > 1 else None
        )

    def _open(self, export: ExportInfo) -> None:
        self.session = make_session(export.graph, 1)

    def _run(self, padded: dict[str, npt.NDArray[np.int64]]) -> F32Array:
        """One padded batch's embeddings; called from `threads` runner threads at once."""
        return cast(F32Array, self.session.run(None, padded)[0])

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        enc = self.tokenizer([QUERY_PREFIX + t for t in texts], truncation=True, max_length=self.max_length)
        return [list(ids) for ids in enc["input_ids"]]

    def embed(self, texts: Sequence[str], progress: Callable[[int], object] | None = None) -> F32Array:
        """(len(texts), 384) float32 embeddings; `progress(n)` is called after each batch."""
        out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        if not texts:
            return out
        with self._lock:  # the fast tokenizer refuses concurrent calls
            seqs = self.tokenize(texts)

        def run(batch: list[int]) -> F32Array:
            rows = fill_rows([seqs[i] for i in batch], self.row_multiple)
            return self._run(pad_batch(rows, self.pad_id, self.pad_multiple))[: len(batch)]

        # Calls share the runner pool: a second call's batches start on a runner the first has left
        # idle. With no pool, passes run in the calling thread, one call at a time (`threads` = 1).
        with self._single if self._runners is None else nullcontext():
            embed_side_by_side(
                seqs,
                run,
                out,
                batch_size=self.batch_size,
                runners=self._runners,
                workers=self.threads,
                progress=progress,
            )
        return out


def fill_rows(rows: list[list[int]], multiple: int) -> list[list[int]]:
    """`rows`, and copies of the last one up to a multiple of `multiple` rows when there are more
    than two (one or two texts stay as they are: filling them would double or quadruple the work)."""
    missing = -len(rows) % multiple if len(rows) > 2 else 0
    return rows + [rows[-1]] * missing
