"""Normal-score transform with tail extrapolation, for Gaussian simulation.

The data's sorted values ``z_(1) <= ... <= z_(n)`` are paired with standard normal quantiles
``y_(i) = Phi^-1((i - 0.5) / n)`` (tied values share the mean of their quantiles). Values between
table entries are interpolated linearly both ways. Beyond the data, the back-transform extrapolates
linearly from the extreme datum to ``zmin`` / ``zmax`` (default: the data's minimum / maximum, no
extrapolation), reached at the normal score ``-TAIL`` / ``+TAIL``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..errors import GeoMLError

#: normal score at which the tails reach zmin / zmax
TAIL = 5.0


@dataclass
class NormalScore:
    """Transform table: ``z`` and ``y`` ``(u,)`` (unique values and their normal scores) plus tail bounds."""

    z: np.ndarray
    y: np.ndarray
    zmin: float
    zmax: float

    @classmethod
    def fit(cls, values: np.ndarray, zmin: float | None = None, zmax: float | None = None) -> "NormalScore":
        v = np.sort(np.asarray(values, dtype=np.float64))
        if v.size < 2 or not np.isfinite(v).all():
            raise GeoMLError("The normal-score transform needs at least 2 finite values.")
        if v[0] == v[-1]:
            raise GeoMLError("All values are equal: there is nothing to simulate.")
        q = ndtri((np.arange(1, v.size + 1) - 0.5) / v.size)
        z, inverse = np.unique(v, return_inverse=True)
        y = np.bincount(inverse.ravel(), weights=q) / np.bincount(inverse.ravel())
        lo = float(z[0]) if zmin is None else float(zmin)
        hi = float(z[-1]) if zmax is None else float(zmax)
        if lo > z[0] or hi < z[-1]:
            raise GeoMLError(f"The tail bounds must enclose the data ({z[0]:g} to {z[-1]:g}); got {lo:g} to {hi:g}.")
        return cls(z, y, lo, hi)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Normal scores of *values*: the data map onto their table scores; values beyond the data follow
        the linear tails (clipped at the tail bounds)."""
        v = np.asarray(values, dtype=np.float64)
        y = np.interp(v, self.z, self.y)
        if self.zmin < self.z[0]:
            low = v < self.z[0]
            y[low] = np.interp(v[low], [self.zmin, self.z[0]], [-TAIL, self.y[0]])
        if self.zmax > self.z[-1]:
            high = v > self.z[-1]
            y[high] = np.interp(v[high], [self.z[-1], self.zmax], [self.y[-1], TAIL])
        return y

    def _y_ext(self) -> np.ndarray:
        return np.concatenate([[-TAIL], self.y, [TAIL]])

    def back(self, scores: np.ndarray) -> np.ndarray:
        """Values of normal *scores*: table interpolation, linear tails to zmin / zmax (clipped there)."""
        zz = np.concatenate([[self.zmin], self.z, [self.zmax]])
        return np.interp(np.asarray(scores, dtype=np.float64), self._y_ext(), zz)
