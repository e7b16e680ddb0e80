"""Cross-validation of ordinary kriging: leave-one-out and spatially blocked k-fold.

Errors are ``estimate - observed`` (positive: over-estimation). Summary statistics:
ME (mean error, bias), MAE, RMSE, and MSDR, the mean of ``error^2 / kriging variance``
(about 1 when the kriging variance describes the real errors honestly; above 1 means the
variance is too optimistic).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..progress import ProgressCallback, report, scaled
from .kriging import KrigingResult, OrdinaryKriging
from .models import VariogramModel

#: largest sample count for leave-one-out with a global neighbourhood (n systems of size n)
MAX_GLOBAL_LOO = 1500


@dataclass
class CrossValidation:
    """Per-sample cross-validation results and their summary.

    ``table`` columns: x, y[, z], observed, estimate, variance, error, std_error[, fold].
    """

    table: pd.DataFrame
    method: str
    summary: dict = field(default_factory=dict)


def _summarise(table: pd.DataFrame) -> dict:
    ok = table["estimate"].notna()
    err = table.loc[ok, "error"].to_numpy()
    var = table.loc[ok, "variance"].to_numpy()
    pos = var > 0
    return {
        "n": int(ok.sum()),
        "ME": float(err.mean()),
        "MAE": float(np.abs(err).mean()),
        "RMSE": float(np.sqrt(np.mean(err ** 2))),
        "MSDR": float(np.mean(err[pos] ** 2 / var[pos])) if pos.any() else float("nan"),
        "n_not_estimated": int((~ok).sum()),
    }


def _table(coords, values, est, var, extra=None) -> pd.DataFrame:
    cols = {"x": coords[:, 0], "y": coords[:, 1]}
    if coords.shape[1] == 3:
        cols["z"] = coords[:, 2]
    err = est - values
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.where(var > 0, err / np.sqrt(np.maximum(var, 0)), np.nan)
    cols.update(observed=values, estimate=est, variance=var, error=err, std_error=std)
    cols.update(extra or {})
    return pd.DataFrame(cols)


def leave_one_out(
    coords: np.ndarray, values: np.ndarray, model: VariogramModel, neighbours: int = 32,
    search_radius: float | None = None, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Krige every sample from the others (its own value is never used).

    With a moving neighbourhood each sample uses its ``neighbours`` nearest *other* samples;
    ``neighbours=0`` uses all other samples (at most :data:`MAX_GLOBAL_LOO` samples).
    """
    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    n = len(values)
    if n < 3:
        raise GeoMLError("Cross-validation needs at least 3 samples.")
    ok = OrdinaryKriging(model, neighbours, search_radius).fit(coords, values)
    t = ok.model.transform(coords, ok.centre_[:2])
    k = min(ok.k_, n - 1)
    if neighbours == 0 and search_radius is None:
        if n > MAX_GLOBAL_LOO:
            raise GeoMLError(
                f"Leave-one-out with all {n} samples as neighbours is too slow; choose a number of "
                "neighbours (32 is usual) or blocked k-fold cross-validation."
            )
        idx = np.array([np.delete(np.arange(n), i) for i in range(n)])
    else:
        _, near = ok.neighbourhoods(t, k + 1)
        # coordinates are unique, so every row holds its own index exactly once (at distance 0)
        idx = near[near != np.arange(n)[:, None]].reshape(n, k)
    est, var = np.empty(n), np.empty(n)
    step = 2048
    report(progress, 0.0)
    for s in range(0, n, step):
        r = ok.solve(t[s:s + step], idx[s:s + step])
        est[s:s + step], var[s:s + step] = r.estimate, r.variance
        report(progress, min(1.0, (s + step) / n))
    cv = CrossValidation(_table(coords, values, est, var), "leave-one-out")
    cv.summary = _summarise(cv.table)
    return cv


def spatial_folds(coords: np.ndarray, block_size: float, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold number ``(n,)`` of each sample: square blocks of *block_size* dealt to folds at random."""
    if not block_size > 0:
        raise GeoMLError("The cross-validation block size must be a positive distance.")
    cell = np.floor((coords[:, :2] - coords[:, :2].min(axis=0)) / block_size).astype(np.int64)
    _, block = np.unique(cell, axis=0, return_inverse=True)
    block = block.ravel()
    n_blocks = block.max() + 1
    if n_blocks < n_folds:
        raise GeoMLError(
            f"Only {n_blocks} spatial blocks of {block_size:g} map units hold samples, fewer than "
            f"{n_folds} folds; use smaller blocks or fewer folds."
        )
    perm = np.random.default_rng(seed).permutation(n_blocks)
    return (perm % n_folds)[block]


def blocked_kfold(
    coords: np.ndarray, values: np.ndarray, model: VariogramModel, neighbours: int = 32,
    search_radius: float | None = None, n_folds: int = 5, block_size: float | None = None,
    seed: int = 0, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Spatially blocked k-fold cross-validation.

    Samples are grouped in square blocks (default size: the variogram range, so that held-out
    samples are not right next to training samples); blocks are dealt to ``n_folds`` folds at
    random (``seed``); each fold is kriged from the other folds.
    """
    def fit_predict(train: np.ndarray, test: np.ndarray, progress: ProgressCallback | None) -> KrigingResult:
        ok = OrdinaryKriging(model, neighbours, search_radius).fit(coords[train], values[train])
        return ok.predict(coords[test], progress=progress)

    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    return run_blocked_folds(coords, values, fit_predict, block_size or model.range, n_folds, seed, 3, progress)


def run_blocked_folds(
    coords: np.ndarray, values: np.ndarray, fit_predict, block_size: float, n_folds: int, seed: int,
    min_train: int, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Blocked k-fold with any estimator: ``fit_predict(train_mask, test_mask, progress)`` fits on the
    samples of ``train_mask (n,)`` and returns, at those of ``test_mask``, a :class:`KrigingResult` or a
    dict of per-sample columns holding ``estimate`` and ``variance`` (other columns join the table)."""
    folds = spatial_folds(coords, block_size, n_folds, seed)
    cols: dict[str, np.ndarray] = {}
    report(progress, 0.0)
    for f in range(n_folds):
        test = folds == f
        train = ~test
        if train.sum() < min_train:
            raise GeoMLError(f"A cross-validation fold leaves fewer than {min_train} training samples; use more folds.")
        r = fit_predict(train, test, scaled(progress, f / n_folds, (f + 1) / n_folds))
        part = r if isinstance(r, dict) else {"estimate": r.estimate, "variance": r.variance}
        for name, v in part.items():
            cols.setdefault(name, np.full(len(values), np.nan))[test] = v
    est, var = cols.pop("estimate"), cols.pop("variance")
    cv = CrossValidation(_table(coords, values, est, var, {**cols, "fold": folds}), f"blocked {n_folds}-fold")
    cv.summary = _summarise(cv.table)
    return cv


def add_probability_scores(cv: CrossValidation, exceedance: np.ndarray, observed: np.ndarray) -> None:
    """Add ``Brier`` (mean squared difference between predicted exceedance probabilities ``(n, K)`` and
    observed exceedances ``(n, K)``, 0 is perfect) and ``Brier_reference`` (the score of predicting the
    global proportions) to the summary of *cv*."""
    ok = np.isfinite(exceedance).all(axis=1)
    cv.summary["Brier"] = float(np.mean((exceedance[ok] - observed[ok]) ** 2))
    cv.summary["Brier_reference"] = float(np.mean((observed.mean(axis=0) - observed) ** 2))
