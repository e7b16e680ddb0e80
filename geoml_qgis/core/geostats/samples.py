"""Validated kriging samples: NaN/NULL values skipped and counted, duplicates merged, CRS checked."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GeoMLError
from ..io.crs import require_projected

MIN_SAMPLES = 3


@dataclass
class Samples:
    """Sample coordinates and values ready for variograms and kriging.

    Attributes
    ----------
    coords : ndarray (n, 2) or (n, 3)
        Unique sample locations (x, y[, z]).
    values : ndarray (n,)
        Values; the mean of the values of samples sharing a location.
    n_input : int
        Number of input records.
    n_skipped : int
        Records without a value or coordinates (NaN/NULL), not used.
    n_merged : int
        Records merged into another at identical coordinates.
    source_index : ndarray (n,)
        Index of the first input record of each unique location.
    """

    coords: np.ndarray
    values: np.ndarray
    n_input: int
    n_skipped: int
    n_merged: int
    source_index: np.ndarray

    @property
    def ndim(self) -> int:
        return self.coords.shape[1]

    def summary(self) -> str:
        parts = [f"{len(self.values)} samples used of {self.n_input}"]
        if self.n_skipped:
            parts.append(f"{self.n_skipped} without a value or location skipped")
        if self.n_merged:
            parts.append(f"{self.n_merged} at duplicate locations merged (values averaged)")
        return "; ".join(parts)


def prepare_samples(
    x: np.ndarray, y: np.ndarray, values: np.ndarray, z: np.ndarray | None = None,
    crs_wkt: str = "", field: str = "value",
) -> Samples:
    """Check and clean sample points for geostatistics.

    Records whose value or coordinates are NaN (NULL) are skipped and counted; records at
    identical coordinates are merged into one location with their mean value (a kriging
    system with two identical rows is singular); a geographic CRS is refused.

    Raises
    ------
    GeoMLError
        Fewer than 3 usable samples, or a geographic CRS.
    """
    require_projected(crs_wkt, "the sample layer")
    cols = [np.asarray(x, float), np.asarray(y, float)] + ([np.asarray(z, float)] if z is not None else [])
    v = np.asarray(values, float)
    coords = np.column_stack(cols)
    ok = np.isfinite(v) & np.isfinite(coords).all(axis=1)
    n_input = len(v)
    if ok.sum() < MIN_SAMPLES:
        raise GeoMLError(
            f"Kriging needs at least {MIN_SAMPLES} samples with a value in '{field}' and a location; "
            f"found {int(ok.sum())} of {n_input}."
        )
    kept = np.flatnonzero(ok)
    uniq, first, inverse = np.unique(coords[kept], axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse, minlength=len(uniq))
    means = np.bincount(inverse, weights=v[kept], minlength=len(uniq)) / counts
    if len(uniq) < MIN_SAMPLES:
        raise GeoMLError(
            f"Kriging needs samples at {MIN_SAMPLES} or more distinct locations; '{field}' has {len(uniq)}."
        )
    return Samples(uniq, means, n_input, int(n_input - len(kept)), int(len(kept) - len(uniq)), kept[first])
