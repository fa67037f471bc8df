"""Calibration of the head's logits on held-out rows.

- temperature scaling: one scalar T, softmax(logits / T);
- vector scaling: T plus a bias per class (neutral's fixed at 0), softmax(logits / T + b), fitted
  per language, because a shift of the class balance between languages (or between the training
  mix and the stream) is something one temperature cannot undo.
"""

from __future__ import annotations

import numpy as np

from sentiment.model import LogitScaling, softmax
from sentiment.training.metrics import FloatArray, IntArray


def _nll(probs: FloatArray, y: IntArray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())


def fit_temperature(logits: FloatArray, y: IntArray) -> float:
    """The T > 0 minimising the mean negative log-likelihood of softmax(logits / T).

    Golden-section search on log T in [-3, 3] (the log-likelihood is unimodal in T).
    """

    def nll(log_t: float) -> float:
        return _nll(softmax(logits / np.exp(log_t)), y)

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


def fit_logit_scaling(logits: FloatArray, y: IntArray) -> LogitScaling:
    """Vector scaling: the T > 0 and class biases (neutral's 0) minimising the mean NLL.

    Starts from the plain temperature and refines all three parameters together (Nelder-Mead;
    three parameters, a smooth convex-looking surface, deterministic).
    """
    from scipy.optimize import minimize

    start = np.array([np.log(fit_temperature(logits, y)), 0.0, 0.0])

    def scaling(params: FloatArray) -> LogitScaling:
        return LogitScaling(float(np.exp(params[0])), (float(params[1]), 0.0, float(params[2])))

    def objective(params: FloatArray) -> float:
        return _nll(scaling(params).probs(logits), y)

    found = minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-7})
    return scaling(np.asarray(found.x, dtype=np.float64))
