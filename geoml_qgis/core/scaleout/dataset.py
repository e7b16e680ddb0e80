"""Training arrays for a scale-out ensemble: labelled rows and unlabelled background.

The workers read one ``.npz`` holding ``X`` (n, f), ``y`` (n,) 0/1 and ``X_unlabelled``
(m, f); these functions build it from a table of features (a stack's background cells come from
:func:`..prospectivity.sampling.random_pixels`).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError


def labelled_arrays(features: np.ndarray, labels: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    """Rows with a 0/1 label and finite features → ``{"X", "y"}``; also how many rows were dropped.

    features : (n, f) float; labels : (n,) float with NaN for rows without a label.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    labelled = np.isfinite(labels)
    bad = labelled & ~np.isin(labels, (0.0, 1.0))
    if bad.any():
        raise GeoMLError(f"The label field must hold 1 (deposit) or 0 (not a deposit); found {labels[bad][0]:g}.")
    keep = labelled & np.isfinite(features).all(axis=1)
    y = labels[keep].astype(np.int64)
    if y.sum() < 2 or (len(y) - y.sum()) < 2:
        raise GeoMLError(
            f"Training needs at least 2 deposits (1) and 2 non-deposits (0) with all features; "
            f"found {int(y.sum())} and {int(len(y) - y.sum())}."
        )
    return {"X": features[keep].astype(np.float32), "y": y}, int(labelled.sum() - keep.sum())


def subsample_rows(rows: np.ndarray, n: int, seed: int) -> np.ndarray:
    """At most *n* of the finite rows of *rows* (m, f), drawn without replacement with *seed*."""
    rows = np.asarray(rows, dtype=np.float32)
    rows = rows[np.isfinite(rows).all(axis=1)]
    if len(rows) > n:
        rows = rows[np.sort(np.random.default_rng(seed).choice(len(rows), n, replace=False))]
    return rows
