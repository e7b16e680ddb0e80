"""Spatially blocked k-fold cross-validation of indicator kriging (leave-one-out:
:func:`.indicator.leave_one_out_indicator`).

The folds are those of :func:`.crossval.spatial_folds` (the same loop as ordinary and trend kriging).
Each fold is estimated by indicator kriging refitted on the other folds: the cut-offs and indicator
variograms stay those of the given estimator (fitted on all samples, as in leave-one-out), the
indicators, the class means of the E-type and the kriging come from the training folds only.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..progress import ProgressCallback
from .crossval import CrossValidation, add_probability_scores, run_blocked_folds
from .indicator import IndicatorKriging, indicators


def blocked_kfold_indicator(
    estimator: IndicatorKriging, coords: np.ndarray, values: np.ndarray, n_folds: int = 5,
    block_size: float | None = None, seed: int = 0, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Blocked k-fold cross-validation of an (unfitted or fitted) indicator-kriging *estimator*.

    Same table and summary as leave-one-out: E-type and conditional variance per sample (error = E-type
    - observed), ``p_exceed_k`` per cut-off, ``Brier`` and ``Brier_reference``, ``n_order_corrections``,
    plus the ``fold`` of each sample. ``block_size`` defaults to the largest indicator variogram range.
    """
    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    full = estimator if hasattr(estimator, "models_") else IndicatorKriging(
        estimator.cutoffs, estimator.models, estimator.neighbours, estimator.search_radius, estimator.median,
        estimator.variogram_kind).fit(coords, values)
    K = len(full.cutoffs_)
    corrected = [0]

    def fit_predict(train: np.ndarray, test: np.ndarray, progress: ProgressCallback | None) -> dict:
        try:
            ik = IndicatorKriging(full.cutoffs_, full.models_, full.neighbours, full.search_radius).fit(
                coords[train], values[train])
        except GeoMLError as exc:
            raise GeoMLError(f"A cross-validation fold cannot be estimated: {exc} Use fewer folds or smaller "
                             "blocks, or cut-offs nearer the median.") from exc
        res = ik.predict(coords[test], progress=progress)
        corrected[0] += res.n_corrected
        return {"estimate": res.etype, "variance": res.conditional_variance,
                **{f"p_exceed_{k + 1}": res.exceedance[:, k] for k in range(K)}}

    block = block_size or max(m.range for m in full.models_)
    cv = run_blocked_folds(coords, values, fit_predict, block, n_folds, seed, 3, progress)
    exceed = cv.table[[f"p_exceed_{k + 1}" for k in range(K)]].to_numpy()
    add_probability_scores(cv, exceed, 1.0 - indicators(values, full.cutoffs_))
    cv.summary["n_order_corrections"] = corrected[0]
    return cv
