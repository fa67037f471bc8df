"""Temperature scaling: one scalar T so that softmax(logits / T) is calibrated on held-out rows."""

from __future__ import annotations

import numpy as np

from sentiment.model import softmax
from sentiment.training.metrics import FloatArray, IntArray


def fit_temperature(logits: FloatArray, y: IntArray) -> float:
    """The T > 0 minimising the mean negative log-likelihood of softmax(logits / T).

    Golden-section search on log T in [-3, 3] (the log-likelihood is unimodal in T).
    """

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    lo, hi = -3.0, 3.0
    ratio = (np.sqrt(5.0) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    while hi - lo > 1e-4:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))
