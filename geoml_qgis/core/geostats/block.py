"""Block kriging: estimates and variances of block (cell) averages from point samples, as gstat's ``block=``.

A block of size ``bx x by`` centred on a target is discretised by ``n x n`` points ``o_d`` with weights
``w_d``: by default the product of ``n``-point Gauss-Legendre rules (gstat's default, ``n = 4``), or a
regular grid at the centres of ``n x n`` sub-cells with equal weights. In the kriging system of
:class:`~.universal.UniversalKriging` the point-to-target covariance becomes the point-to-block mean
``sum_d w_d C(x_i - (x0 + o_d))``, the target's drift row the block mean of the drift, and ``C(0)``
the block's mean covariance ``sum_{d,e} w_d w_e C(o_d - o_e)``. As in gstat, the nugget is taken as
variation at a scale far below the block, which averages out within it: pairs at zero distance count
the partial sill only (the block variance holds no nugget). With ``drift="constant"`` and no covariates this is ordinary block
kriging. The kriging variance is then the variance of the block average's estimation error: smaller
than the point kriging variance, the more so for larger blocks.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from .kriging import EXACT_EPS
from .universal import UniversalKriging


DISCRETISATIONS = ("gauss", "regular")


def block_offsets(size: tuple[float, float], n: int = 4, kind: str = "gauss") -> tuple[np.ndarray, np.ndarray]:
    """Discretisation of a block of *size* ``(bx, by)``: points ``(n*n, 2)`` relative to its centre and
    weights ``(n*n,)`` summing to 1 (``kind`` ``"gauss"``: Gauss-Legendre; ``"regular"``: sub-cell centres)."""
    bx, by = (float(v) for v in size)
    if not (bx > 0 and by > 0):
        raise GeoMLError("The block size must be positive in x and y (e.g. the raster's cell size).")
    if n < 1:
        raise GeoMLError("Discretise blocks with at least 1 x 1 points (4 x 4 is usual).")
    if kind == "gauss":
        f, w = np.polynomial.legendre.leggauss(n)
        f, w = f / 2, w / 2
    elif kind == "regular":
        f, w = (np.arange(n) + 0.5) / n - 0.5, np.full(n, 1.0 / n)
    else:
        raise GeoMLError(f"Unknown block discretisation '{kind}'; use one of {', '.join(DISCRETISATIONS)}.")
    gx, gy = np.meshgrid(f * bx, f * by)
    wx, wy = np.meshgrid(w, w)
    return np.column_stack([gx.ravel(), gy.ravel()]), (wx * wy).ravel()


class BlockKriging(UniversalKriging):
    """Block kriging (ordinary, universal or with external drift) of ``block_size`` blocks centred on targets.

    Parameters
    ----------
    model, drift, neighbours, search_radius, covariate_names
        As :class:`~.universal.UniversalKriging` (``drift="constant"``: ordinary block kriging).
    block_size : (float, float)
        Block width and height in map units (usually the output cell size).
    discretisation : int
        Points per block side (``n x n`` points; default 4 as gstat). Covariates are taken constant
        over a block (the cell's value).
    discretisation_kind : {"gauss", "regular"}
        Gauss-Legendre points and weights (gstat's default) or a regular grid.
    """

    def __init__(self, model, block_size: tuple[float, float], drift: str = "constant", neighbours: int = 32,
                 search_radius: float | None = None, covariate_names: tuple[str, ...] = (), discretisation: int = 4,
                 discretisation_kind: str = "gauss"):
        super().__init__(model, drift, neighbours, search_radius, covariate_names)
        self.block_size = tuple(block_size)
        self.discretisation = int(discretisation)
        self.discretisation_kind = discretisation_kind

    def fit(self, coords, values, covariates=None) -> "BlockKriging":
        coords = np.asarray(coords, dtype=np.float64)
        if coords.ndim == 2 and coords.shape[1] != 2:
            raise GeoMLError("Block kriging is for 2D samples.")
        super().fit(coords, values, covariates)
        self.offsets_, self.weights_ = block_offsets(self.block_size, self.discretisation, self.discretisation_kind)
        self._offsets_t = self.model.transform(self.offsets_, np.zeros(2))
        o = self._offsets_t
        d = np.sqrt(((o[:, None, :] - o[None, :, :]) ** 2).sum(axis=2))
        cov = np.where(d > 0, self.model.sill - self.model.gamma(d), self.model.sill - self.model.nugget)
        self.block_variance_ = float(self.weights_ @ cov @ self.weights_)
        return self

    point_support = False  # block-averaged right-hand sides: the plain path

    def target_variance(self) -> float:
        return self.block_variance_

    def design(self, coords, covariates=None) -> np.ndarray:
        """Block means ``(m, p)`` of the drift rows (covariates constant over the block)."""
        if self.drift_ is None:
            return np.empty((len(coords), 0))
        coords = np.asarray(coords, dtype=np.float64)
        return sum(w * self.drift_.design(coords + o, covariates) for o, w in zip(self.offsets_, self.weights_))

    def _rhs(self, t: np.ndarray, f0: np.ndarray, nb: np.ndarray) -> np.ndarray:
        k = nb.shape[1]
        n = self.n_samples
        xy = self._xy[np.minimum(nb, n - 1)]  # (c, k, 2)
        b = np.empty((len(t), k + f0.shape[1]))
        acc = np.zeros((len(t), k))
        for o, w in zip(self._offsets_t, self.weights_):
            diff = xy - (t + o)[:, None, :]
            d = np.sqrt(np.einsum("ckd,ckd->ck", diff, diff))
            acc += w * np.where(d <= EXACT_EPS, self.model.sill, self.model.sill - self.model.gamma(d))
        b[:, :k] = acc
        b[:, :k][nb >= n] = 0.0
        b[:, k:] = f0
        return b
