"""Training arrays for a scale-out ensemble: labelled rows and unlabelled background.

The workers read one ``.npz`` holding ``X`` (n, f), ``y`` (n,) 0/1 and ``X_unlabelled``
(m, f); these functions build it from a table of features or from a raster stack.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..io.raster import RasterStack

MAX_TRIES = 20


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


def background_pixels(stack: RasterStack, n: int, seed: int) -> np.ndarray:
    """*n* random cells of *stack* with every band valid: (n, bands) float32 (fewer if the stack has fewer)."""
    grid = stack.grid
    rng = np.random.default_rng(seed)
    x0, dx, _, y0, _, dy = grid.transform
    found: list[np.ndarray] = []
    total = 0
    for _ in range(MAX_TRIES):
        if total >= n:
            break
        cells = rng.choice(grid.width * grid.height, min(grid.width * grid.height, 2 * (n - total) + 16), replace=False)
        rows, cols = np.divmod(cells, grid.width)
        values = stack.sample(x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy)
        valid = np.asarray(values.data[~np.ma.getmaskarray(values).any(axis=1)], dtype=np.float32)
        found.append(valid)
        total += len(valid)
    if total == 0:
        raise GeoMLError("The feature stack has no cell where every band has a value.")
    return np.concatenate(found)[:n]
