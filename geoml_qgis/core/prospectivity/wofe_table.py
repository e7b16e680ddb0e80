"""Weights of evidence on tables: deposit rows and background rows standing for the study area.

For evidence already sampled at points (the Yukon tables): the deposits are the rows labelled 1,
the study area is represented by a random sample of it (``013_Random.csv``), each background row
standing for ``background_cells / n_background`` unit cells (one by default). The weights, the
posterior of every input row, the conditional-independence checks, cross-validated ROC AUC and the
layers' permutation importance come out as with rasters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import ArgumentError, GeoMLError
from ..progress import ProgressCallback, report
from .wofe import MIN_STUDENTISED
from .wofe_model import PosteriorEstimator, WofEClassifier, fit_table, pairwise_chi_square
from .wofe_raster import WofEResult


@dataclass
class TableResult:
    """The fitted result, the posterior and sd of the input rows ``(n,)``, and the CV (or None)."""

    result: WofEResult
    posterior: np.ndarray
    sd: np.ndarray
    cv: object | None = None


def run_table(X: np.ndarray, y: np.ndarray | None, names: Sequence[str], kinds: Sequence[str] | str,
              background: np.ndarray | None = None, background_cells: float = 0.0, criterion: str = "contrast",
              breaks: dict | None = None, n_thresholds: int = 50, min_studentised: float = MIN_STUDENTISED,
              folds: int = 5, seed: int = 0, weights_csv: str | None = None, report_path: str | None = None,
              model_path: str | None = None, explain_csv: str | None = None,
              progress: ProgressCallback | None = None) -> TableResult:
    """Weights from deposit rows of *X* (``y == 1``; every row when *y* is None) and the area sample
    (*background*, else the ``y == 0`` rows); posterior and sd for every row of *X*.

    With labels of both classes and *folds* >= 2, weights of evidence is also cross-validated on
    stratified folds (refitted on each training fold, area sample included) and the layers are
    ranked by permutation importance on the held-out folds.
    """
    from .evaluation import cross_validate, stratified_folds
    from .explain import FoldImportance, add_partial_dependence, write_explanation_csv
    from .wofe_report import write_weights_csv, write_wofe_report

    X = np.asarray(X, float)
    names = list(names)
    ks = [kinds] * len(names) if isinstance(kinds, str) else list(kinds)
    if len(ks) == 1 and len(names) > 1:
        ks = ks * len(names)
    if len(ks) != len(names):
        raise GeoMLError(f"Give one evidence type per field ({len(names)}: {', '.join(names)}); got {len(ks)}.")
    y = np.ones(len(X), int) if y is None else np.asarray(y)
    if np.isnan(y.astype(float)).any():
        raise GeoMLError("Some rows have no label; give every row 1 (deposit) or 0.")
    y = y.astype(int)
    bg = X[y == 0] if background is None else np.asarray(background, float)
    if background is None and len(bg) == 0:
        raise ArgumentError("Give background rows standing for the study area ({background}), or rows labelled 0.")
    report(progress, 0.0)
    model = fit_table(X[y == 1], bg, names, ks, criterion, breaks, background_cells or None, n_thresholds,
                      min_studentised)
    # Agterberg-Cheng over the area sample: the rows that stood for the area, with their unit cells
    scale = (background_cells or len(bg)) / len(bg)
    area_rows = np.vstack([bg, X[y == 1]])
    area_w = np.r_[np.full(len(bg), scale), np.ones(int((y == 1).sum()))]
    codes, inv = np.unique(model.classify(area_rows), axis=0, return_inverse=True)
    ac = model.agterberg_cheng(codes, np.bincount(inv.ravel(), weights=area_w))
    dcls = model.classify(X[y == 1])
    chi = pairwise_chi_square(dcls, model.names, [len(lw.classes) for lw in model.layers])
    p, sd = model.predict(X)
    res = WofEResult(model, dcls, ac, chi, p[y == 1], model.predict(bg)[0])
    report(progress, 0.3)
    cv = None
    if folds >= 2 and (y == 0).any() and (y == 1).sum() >= folds:
        hook = FoldImportance(names, 5, seed, "weights of evidence")
        cv = cross_validate(lambda: WofEClassifier(names, ks, criterion, background, n_thresholds,
                                                   min_studentised, breaks),
                            X, y, stratified_folds(y, folds, seed), "weights of evidence", on_fold=hook)
        res.explanation = add_partial_dependence(hook.expl, PosteriorEstimator(model), X, seed=seed)
        model.notes.append(f"{folds}-fold stratified cross-validation (seed {seed}): ROC AUC "
                           f"{np.mean(cv.roc_auc):.3f} ± {np.std(cv.roc_auc, ddof=1):.3f}, PR AUC "
                           f"{np.mean(cv.pr_auc):.3f} ± {np.std(cv.pr_auc, ddof=1):.3f} (held-out folds).")
    report(progress, 0.9)
    if model_path:
        model.save(model_path)
    if weights_csv:
        write_weights_csv(weights_csv, model)
    if explain_csv and res.explanation is not None:
        write_explanation_csv(explain_csv, res.explanation)
    if report_path:
        write_wofe_report(report_path, res)
    report(progress, 1.0)
    return TableResult(res, p, sd, cv)
