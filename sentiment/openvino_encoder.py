"""The fast inference path's encoder: the model in int8 or fp32 (`openvino_export`) run by OpenVINO.

The contract, tokenising and side-by-side batching of `onnx_encoder.OnnxEncoder`; only the runtime
differs: one OpenVINO inference request per core, each taken by one runner thread at a time.
"""

from __future__ import annotations

import queue
from typing import Any

import numpy as np
import numpy.typing as npt

from sentiment.onnx_encoder import F32Array, OnnxEncoder
from sentiment.onnx_export import ExportInfo
from sentiment.openvino_export import compile_openvino


class OpenVinoEncoder(OnnxEncoder):
    """multilingual-e5-small with the adapter merged, in int8 or fp32 (as exported), on OpenVINO."""

    runtime = "openvino"
    pad_multiple = 8
    """OpenVINO prepares its kernels for each new input shape: padded to the longest text, a take of
    new texts met new widths all the time (the first pass over 1,024 tweets ran at 380 texts/s,
    later passes at 570); in steps of 8 the widths are few, and aligned (first pass 470, later 615,
    int8 on a VNNI CPU; labels unchanged)."""
    row_multiple = 4
    """The same holds for the number of rows: a take's batches have any size up to `batch_size`, and
    a new (rows, width) shape ran at half speed on its first call (19 rows by 40 tokens: 125 ms,
    then 65), so a steady stream of small takes kept meeting new ones. Filled up to a multiple of 4
    rows, the shapes are eight times fewer for at most three rows of extra work."""

    def _open(self, export: ExportInfo) -> None:
        self.runtime = f"openvino {export.precision}"
        self.compiled = compile_openvino(export, self.threads)
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(self.threads):
            self._requests.put(self.compiled.create_infer_request())

    def _run(self, padded: dict[str, npt.NDArray[np.int64]]) -> F32Array:
        request = self._requests.get()
        try:
            result = request.infer(padded)
            return np.array(result[0], dtype=np.float32, copy=True)
        finally:
            self._requests.put(request)
