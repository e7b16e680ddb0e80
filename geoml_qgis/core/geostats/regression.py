"""Regression kriging: a trend fitted by generalised least squares, its residuals kriged, both uncertainties added.

With drift rows ``F (n, p)`` (coordinates and/or covariates, :class:`~.drift.Drift`) and the
residual covariance ``C (n, n)`` from the variogram model:

* trend coefficients ``beta = (F^T C^-1 F)^-1 F^T C^-1 z`` with covariance ``V = (F^T C^-1 F)^-1``;
* residuals ``r = z - F beta`` kriged by simple kriging (mean 0) from the ``neighbours`` nearest samples:
  weights ``lambda = C_k^-1 c0``;
* estimate ``f0 . beta + lambda . r_k``; variance
  ``C(0) - lambda . c0 + (f0 - F_k^T lambda)^T V (f0 - F_k^T lambda)`` (simple-kriging variance plus the
  trend's estimation variance as seen through the residual weights).

With a global neighbourhood this is exactly universal kriging / kriging with external drift (same
estimate and variance); with a moving neighbourhood the trend stays global while only the
residuals use local data, which keeps a covariate's effect stable across the map.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from .drift import Drift
from .kriging import KrigingResult
from .universal import UniversalKriging

#: largest sample count for the global GLS trend (an n x n covariance is factorised)
MAX_TREND_SAMPLES = 8000


class RegressionKriging:
    """Regression kriging estimator (GLS trend + simple kriging of residuals).

    Parameters
    ----------
    model : VariogramModel or NestedModel
        Variogram of the residuals.
    drift : {"constant", "linear", "quadratic"}
        Coordinate terms of the trend; covariates given to :meth:`fit` are added.
    neighbours, search_radius
        Neighbourhood of the residual kriging, as in :class:`~.kriging.OrdinaryKriging`.

    Attributes
    ----------
    coef_ : ndarray (p,)
        Trend coefficients on the drift's centred and scaled columns (see :class:`~.drift.Drift`).
    coef_cov_ : ndarray (p, p)
        Their covariance ``(F^T C^-1 F)^-1``.
    residuals_ : ndarray (n,)
    """

    def __init__(self, model, drift: str = "constant", neighbours: int = 32, search_radius: float | None = None,
                 covariate_names: tuple[str, ...] = ()):
        self.model = model
        self.drift = drift
        self.neighbours = int(neighbours)
        self.search_radius = search_radius
        self.covariate_names = tuple(covariate_names)

    def fit(self, coords: np.ndarray, values: np.ndarray, covariates: np.ndarray | None = None) -> "RegressionKriging":
        """Fit the GLS trend to ``values (n,)`` at ``coords (n, 2|3)`` with ``covariates (n, q)``; index residuals."""
        coords = np.asarray(coords, dtype=np.float64)
        z = np.asarray(values, dtype=np.float64)
        n_cov = 0 if covariates is None else np.asarray(covariates).reshape(len(coords), -1).shape[1]
        self.drift_ = Drift(self.drift, n_cov, self.covariate_names)
        f = self.drift_.fit(coords, covariates)
        if len(z) != len(f) or not np.isfinite(z).all():
            raise GeoMLError("Every sample needs one finite value (skip NULL values first).")
        if len(z) > MAX_TREND_SAMPLES:
            raise GeoMLError(
                f"Regression kriging fits its trend on all samples at once; {len(z)} samples is more than "
                f"{MAX_TREND_SAMPLES}. Use kriging with external drift (moving neighbourhood) instead.")
        centre = (coords.min(axis=0) + coords.max(axis=0)) / 2
        xy = self.model.transform(coords, centre[:2])
        diff = xy[:, None, :] - xy[None, :, :]
        c = self.model.covariance(np.sqrt(np.einsum("ijd,ijd->ij", diff, diff)))
        try:
            cf = cho_factor(c, lower=True)
        except LinAlgError as exc:
            raise GeoMLError("The covariance of the samples is singular (duplicate locations without a nugget?).") from exc
        ci_f = cho_solve(cf, f)
        self.coef_cov_ = np.linalg.inv(f.T @ ci_f)
        self.coef_ = self.coef_cov_ @ (ci_f.T @ z)
        self.f_ = f
        self.residuals_ = z - f @ self.coef_
        self.kriging_ = UniversalKriging(self.model, None, self.neighbours, self.search_radius)
        self.kriging_.fit(coords, self.residuals_)
        self.coords_ = coords
        return self

    @property
    def n_samples(self) -> int:
        return len(self.residuals_)

    def trend(self, coords: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """The fitted trend ``(m,)`` at locations."""
        return self.drift_.design(coords, covariates) @ self.coef_

    def predict(self, targets: np.ndarray, covariates: np.ndarray | None = None,
                progress: ProgressCallback | None = None, chunk: int = 65536, workers: int = -1) -> KrigingResult:
        """Estimate and variance ``(m,)`` at ``targets (m, d)`` with their ``covariates (m, q)``
        (*workers*: threads of the neighbour search)."""
        t = np.asarray(targets, dtype=np.float64)
        k = self.kriging_
        if t.ndim != 2 or t.shape[1] != self.coords_.shape[1]:
            raise GeoMLError(f"Targets need {self.coords_.shape[1]} coordinates, like the samples.")
        q = self.drift_.n_covariates
        if q and covariates is None:
            raise GeoMLError(f"The model was fitted with {q} covariate(s): give their values at the targets.")
        cov = None if q == 0 else np.asarray(covariates, dtype=np.float64).reshape(len(t), q)
        est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
        ok = np.isfinite(t).all(axis=1)
        if cov is not None:
            ok &= np.isfinite(cov).all(axis=1)
        sel = np.flatnonzero(ok)
        singular = 0
        report(progress, 0.0)
        for s in range(0, len(sel), chunk):
            rows = sel[s:s + chunk]
            f0 = self.drift_.design(t[rows], None if cov is None else cov[rows])
            tt = self.model.transform(t[rows], k.centre_[:2])
            if k.global_:
                idx = np.broadcast_to(np.arange(self.n_samples), (len(rows), self.n_samples))
            else:
                ub = np.inf if self.search_radius is None else float(self.search_radius)
                idx = k.tree_.query(tt, k=k.k_, distance_upper_bound=ub, workers=workers)[1].reshape(len(rows), -1)
            e, v, bad = self.combine(tt, f0, idx, shared=k.global_)
            est[rows], var[rows] = e, v
            singular += bad
            report(progress, min(1.0, (s + chunk) / max(len(sel), 1)))
        return KrigingResult(est, var, singular)

    def combine(self, t: np.ndarray, f0: np.ndarray, idx: np.ndarray, shared: bool = False):
        """Estimate, variance and singular count for transformed targets from neighbours ``idx``."""
        e, v, bad, proj = self.kriging_.solve_weights(t, np.empty((len(t), 0)), idx, shared, project=self.f_)
        u = f0 - proj
        return f0 @ self.coef_ + e, v + np.einsum("mp,pq,mq->m", u, self.coef_cov_, u), bad
