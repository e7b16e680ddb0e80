"""Cross-validation of kriging with a trend (universal, external drift, regression kriging).

Same tables and summaries as :mod:`.crossval` (errors ``estimate - observed``, ME, MAE, RMSE, MSDR).

* Leave-one-out: each sample is kriged from its nearest *other* samples (gstat's ``krige.cv``).
  For universal kriging and kriging with external drift the trend is part of each kriging system,
  so nothing of the left-out sample is used. For regression kriging the global GLS trend is kept
  from all samples (only the residual kriging leaves the sample out), which is the usual shortcut
  and slightly optimistic; use blocked k-fold for an honest figure.
* Blocked k-fold: the estimator is fitted again on the other folds (trend included).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from .crossval import CrossValidation, _summarise, _table, run_blocked_folds
from .regression import RegressionKriging
from .universal import UniversalKriging


def _estimator_like(est):
    """A new unfitted estimator with the settings of *est*."""
    return type(est)(est.model, est.drift, est.neighbours, est.search_radius, est.covariate_names)


def leave_one_out_trend(
    estimator: UniversalKriging | RegressionKriging, coords: np.ndarray, values: np.ndarray,
    covariates: np.ndarray | None = None, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Leave-one-out cross-validation of an (unfitted or fitted) trend-kriging *estimator*."""
    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    n = len(values)
    if n < 4:
        raise GeoMLError("Cross-validation needs at least 4 samples.")
    est_ = _estimator_like(estimator).fit(coords, values, covariates)
    inner = est_.kriging_ if isinstance(est_, RegressionKriging) else est_
    k = min(inner.k_, n - 1)
    t = est_.model.transform(coords, inner.centre_[:2])
    if inner.global_:
        idx = np.array([np.delete(np.arange(n), i) for i in range(n)])
    else:
        ub = np.inf if estimator.search_radius is None else float(estimator.search_radius)
        near = inner.tree_.query(t, k=k + 1, distance_upper_bound=ub, workers=-1)[1]
        # coordinates are unique: each row holds its own index once (at distance 0); drop it
        idx = near[near != np.arange(n)[:, None]].reshape(n, k)
    f0 = est_.drift_.design(coords, covariates)
    out_e, out_v = np.empty(n), np.empty(n)
    step = 1024
    report(progress, 0.0)
    for s in range(0, n, step):
        sl = slice(s, s + step)
        if isinstance(est_, RegressionKriging):
            e, v, _ = est_.combine(t[sl], f0[sl], idx[sl])
        else:
            r = est_.solve(t[sl], f0[sl], idx[sl])
            e, v = r.estimate, r.variance
        out_e[sl], out_v[sl] = e, v
        report(progress, min(1.0, (s + step) / n))
    cv = CrossValidation(_table(coords, values, out_e, out_v), "leave-one-out")
    cv.summary = _summarise(cv.table)
    return cv


def blocked_kfold_trend(
    estimator: UniversalKriging | RegressionKriging, coords: np.ndarray, values: np.ndarray,
    covariates: np.ndarray | None = None, n_folds: int = 5, block_size: float | None = None, seed: int = 0,
    progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Spatially blocked k-fold cross-validation (see :func:`.crossval.blocked_kfold`); refits the trend per fold."""
    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    cov = None if covariates is None else np.asarray(covariates, float).reshape(len(values), -1)

    def fit_predict(train: np.ndarray, test: np.ndarray, progress: ProgressCallback | None):
        m = _estimator_like(estimator).fit(coords[train], values[train], None if cov is None else cov[train])
        return m.predict(coords[test], None if cov is None else cov[test], progress=progress)

    return run_blocked_folds(coords, values, fit_predict, block_size or estimator.model.range, n_folds, seed, 4,
                             progress)
