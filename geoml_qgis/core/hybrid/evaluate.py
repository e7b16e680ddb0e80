"""Spatially blocked cross-validation of the hybrid predictor against ordinary kriging on the same folds."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..geostats.crossval import spatial_folds
from ..geostats.kriging import OrdinaryKriging
from ..geostats.variogram import experimental_variogram, fit_variogram
from ..progress import ProgressCallback, report, scaled
from .features import KRIGING_NEIGHBOURS
from .predictor import HybridPredictor, forward_transform


@dataclass
class Comparison:
    """``table``: per sample (x, y, fold, observed, kriging, hybrid, spread) in modelled units;
    ``scores``: RMSE, MAE and R² of each method (rows ``hybrid`` and ``ordinary kriging``)."""

    table: pd.DataFrame
    scores: pd.DataFrame
    block_size: float


def _scores(obs: np.ndarray, pred: np.ndarray) -> dict:
    err = pred - obs
    return {"RMSE": float(np.sqrt(np.mean(err ** 2))), "MAE": float(np.mean(np.abs(err))),
            "R2": float(1 - np.sum(err ** 2) / np.sum((obs - obs.mean()) ** 2))}


def blocked_comparison(
    coords: np.ndarray, values: np.ndarray, covariates: np.ndarray | None, variogram: str = "spherical",
    n_folds: int = 5, block_size: float | None = None, seed: int = 0, progress: ProgressCallback | None = None,
    **hybrid_args,
) -> Comparison:
    """Hybrid vs ordinary kriging, fold by fold, in the modelled units (logs with TRANSFORM=log).

    For each fold the variogram is fitted on the training folds only and used by both methods;
    the hybrid's early stopping and shrinkage use a validation part of the training folds only.
    Blocks default to squares of a quarter of the samples' larger extent.
    """
    coords = np.asarray(coords, float)
    span = np.ptp(coords[:, :2], axis=0).max()
    block = block_size or span / 4.0
    folds = spatial_folds(coords, block, n_folds, seed)
    z = forward_transform(values, hybrid_args.get("transform", "none"))
    krig, hyb, spread = (np.full(len(z), np.nan) for _ in range(3))
    report(progress, 0.0)
    for f in range(n_folds):
        test, train = folds == f, folds != f
        ev = experimental_variogram(coords[train], z[train])
        model, _ = fit_variogram(ev, variogram)
        ok = OrdinaryKriging(model, KRIGING_NEIGHBOURS).fit(coords[train], z[train])
        krig[test] = ok.predict(coords[test]).estimate
        hp = HybridPredictor(model, **{**hybrid_args, "seed": seed + 100 * f})
        cov_train = None if covariates is None else covariates[train]
        hp.fit(coords[train], values[train], cov_train, progress=scaled(progress, f / n_folds, (f + 1) / n_folds))
        feats = hp.builder_.targets(coords[test], None if covariates is None else covariates[test])
        hyb[test], spread[test] = hp.predict_features(feats, original_units=False)
    table = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "fold": folds, "observed": z,
                          "kriging": krig, "hybrid": hyb, "spread": spread})
    scores = pd.DataFrame([_scores(z, hyb), _scores(z, krig)], index=["hybrid", "ordinary kriging"])
    return Comparison(table, scores, float(block))
