"""Class weights of the deposit / non-deposit loss (no torch: the scikit-learn baselines use them too)."""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError


def class_weights(y: np.ndarray, spec) -> tuple[float, float]:
    """``(w0, w1)``: ``"auto"`` gives w1 = n0 / n1 (the classes weigh the same in the loss),
    ``None``/``"none"`` gives (1, 1), a pair is used as given."""
    if spec is None or spec == "none":
        return 1.0, 1.0
    if spec == "auto":
        n1 = float((y == 1).sum())
        return 1.0, float((y == 0).sum()) / max(n1, 1.0)
    w0, w1 = (float(v) for v in spec)
    if w0 <= 0 or w1 <= 0:
        raise GeoMLError("Class weights must be positive numbers (non-deposit weight, deposit weight).")
    return w0, w1
