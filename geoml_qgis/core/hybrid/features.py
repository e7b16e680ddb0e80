"""Kriging-derived inputs of the hybrid predictor, built so that a sample never sees its own value.

For each target, a sequence of its k nearest samples sorted by distance; each step carries

    0 value (standardized)  1 distance / range  2 dx / range  3 dy / range  [4 dz / range]
    last: variogram covariance to the target / sill

and per target: the ordinary-kriging estimate (standardized) and variance (/ sill), then the
covariates (standardized). Training features are leave-one-out: a sample's sequence and its
kriging estimate are built from the *other* samples only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GeoMLError
from ..geostats.kriging import OrdinaryKriging
from ..geostats.models import VariogramModel

#: neighbours of the ordinary-kriging feature (and of the kriging baseline it is compared with)
KRIGING_NEIGHBOURS = 32


@dataclass
class Features:
    """Network inputs: ``seq (m, k, c)``, ``target (m, f)``; ``kriging (m,)`` and ``kriging_var (m,)`` in data units."""

    seq: np.ndarray
    target: np.ndarray
    kriging: np.ndarray
    kriging_var: np.ndarray


class FeatureBuilder:
    """Builds :class:`Features` from conditioning samples ``coords (n, d)`` and ``values (n,)``.

    ``mean``/``std`` standardize values (those of the training samples, kept with the model);
    ``cov_mean``/``cov_std`` standardize covariates.
    """

    def __init__(self, coords: np.ndarray, values: np.ndarray, model: VariogramModel, k: int,
                 mean: float, std: float, cov_mean: np.ndarray | None = None, cov_std: np.ndarray | None = None):
        self.coords = np.asarray(coords, float)
        self.values = np.asarray(values, float)
        n = len(self.values)
        if k < 1:
            raise GeoMLError("The hybrid predictor needs at least 1 neighbour.")
        if n < k + 2:
            raise GeoMLError(
                f"{n} samples are too few for sequences of {k} neighbours (each sample is described by its "
                f"{k} nearest other samples); use at most {max(1, n - 2)} neighbours."
            )
        self.model, self.k, self.mean, self.std = model, k, float(mean), float(std)
        self.cov_mean = None if cov_mean is None else np.asarray(cov_mean, float)
        self.cov_std = None if cov_std is None else np.asarray(cov_std, float)
        self.seq_ok = OrdinaryKriging(model, k).fit(self.coords, self.values)
        self.krig = OrdinaryKriging(model, min(KRIGING_NEIGHBOURS, n - 1)).fit(self.coords, self.values)
        # per-axis contiguous columns: gathering one axis at a time is several times faster than rows
        self._t_cols = [np.ascontiguousarray(c) for c in self.seq_ok._xy[:-1].T]
        self._cols = [np.ascontiguousarray(c) for c in self.coords.T]
        self._z_std = (self.values - self.mean) / self.std

    def training(self, covariates: np.ndarray | None = None) -> Features:
        """Leave-one-out features of the conditioning samples themselves."""
        n = len(self.values)
        self_idx = np.arange(n)[:, None]
        t = self.seq_ok.model.transform(self.coords, self.seq_ok.centre_[:2])
        _, near = self.seq_ok.neighbourhoods(t, self.k + 1)
        seq_idx = near[near != self_idx].reshape(n, self.k)
        kk = self.krig.k_
        _, near = self.krig.neighbourhoods(t, kk + 1)
        kr = self.krig.solve(t, near[near != self_idx].reshape(n, kk))
        return self._assemble(self.coords, t, seq_idx, kr.estimate, kr.variance, covariates)

    def targets(self, coords: np.ndarray, covariates: np.ndarray | None = None, workers: int = -1) -> Features:
        """Features at new locations ``coords (m, d)`` from all conditioning samples.

        *workers*: threads of the neighbour searches (-1: every core; 1 where blocks already run in
        parallel threads).
        """
        coords = np.asarray(coords, float)
        t = self.seq_ok.model.transform(coords, self.seq_ok.centre_[:2])
        _, seq_idx = self.seq_ok.tree_.query(t, k=self.k, workers=workers)
        seq_idx = seq_idx.reshape(len(t), self.k)
        kr = self.krig.predict(coords, workers=workers)
        return self._assemble(coords, t, seq_idx, kr.estimate, kr.variance, covariates)

    def _assemble(self, coords, t, seq_idx, est, var, covariates) -> Features:
        m, k = seq_idx.shape
        a = self.model.range
        h = np.zeros((m, k))
        for j, col in enumerate(self._t_cols):
            dj = col.take(seq_idx)
            dj -= t[:, j, None]
            dj *= dj
            h += dj
        np.sqrt(h, out=h)
        unsorted = np.flatnonzero((h[:, 1:] < h[:, :-1]).any(axis=1))
        if len(unsorted):  # nearest first (the k-d tree's order already, but for near-ties)
            order = np.argsort(h[unsorted], axis=1, kind="stable")
            h[unsorted] = np.take_along_axis(h[unsorted], order, 1)
            seq_idx = seq_idx.copy()
            seq_idx[unsorted] = np.take_along_axis(seq_idx[unsorted], order, 1)
        d = coords.shape[1]
        seq = np.empty((m, k, d + 3), np.float32)
        seq[:, :, 0] = self._z_std.take(seq_idx)
        seq[:, :, 1] = h / a
        for j, col in enumerate(self._cols):
            dj = col.take(seq_idx)
            dj -= coords[:, j, None]
            dj /= a
            seq[:, :, 2 + j] = dj
        seq[:, :, 2 + d] = self.model.covariance(h) / self.model.sill
        target = np.empty((m, 2 + (0 if covariates is None else np.shape(covariates)[1])), np.float32)
        target[:, 0] = (est - self.mean) / self.std
        target[:, 1] = var / self.model.sill
        if covariates is not None:
            if self.cov_mean is None:
                raise GeoMLError("This model was trained without covariates.")
            target[:, 2:] = (np.asarray(covariates, float) - self.cov_mean) / self.cov_std
        elif self.cov_mean is not None:
            raise GeoMLError(f"This model needs its {len(self.cov_mean)} covariate raster(s).")
        return Features(seq, target, est, var)


def check_covariates(values: np.ma.MaskedArray, names: list[str]) -> np.ndarray:
    """Covariates sampled at the samples ``(n, p)``: refuse samples outside or on nodata cells."""
    mask = np.ma.getmaskarray(values)
    if mask.any():
        bad = np.flatnonzero(mask.any(axis=1))
        which = [names[j] for j in np.flatnonzero(mask.any(axis=0))]
        raise GeoMLError(
            f"{len(bad)} sample(s) fall outside or on nodata cells of the covariate raster(s) "
            f"{', '.join(which)} (e.g. sample #{bad[0] + 1}). Use covariates that cover every sample, "
            "or remove those samples."
        )
    return np.asarray(values.data, float)
