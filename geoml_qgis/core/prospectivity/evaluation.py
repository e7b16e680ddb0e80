"""Honest evaluation: cross-validation folds, ROC/PR AUC, success-rate curves, capture efficiency.

Every score here is computed on data the model did not train on: out-of-fold probabilities in
cross-validation, or an independent set of validation points for a finished map.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import GeoMLError
from ..progress import ProgressCallback, report

CAPTURE_AT = (0.05, 0.10, 0.20)


def stratified_folds(y: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """Fold index ``(n,)`` in ``0..k-1``: each class dealt round-robin after a seeded shuffle."""
    from .model import check_labels

    check_labels(y, k)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), np.int64)
    for c in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == c))
        folds[idx] = (np.arange(len(idx)) + (rng.integers(k) if c else 0)) % k
    return folds


def spatial_folds(xy: np.ndarray, y: np.ndarray, k: int = 5, block_size: float | None = None, seed: int = 0) -> np.ndarray:
    """Spatially blocked folds: square blocks of *block_size* map units go whole to one fold.

    Blocks (default: a 10 x 10 division of the points' extent) are shuffled with *seed* and dealt
    greedily to the fold with the fewest deposits so far (ties: fewest points), so every fold gets
    deposits when there are enough blocks holding them.
    """
    from .model import check_labels

    check_labels(y, k)
    xy = np.asarray(xy, float)
    if block_size is None:
        block_size = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) / 10 or 1.0
    keys = np.floor((xy - xy.min(axis=0)) / block_size).astype(np.int64)
    _, block = np.unique(keys, axis=0, return_inverse=True)
    block = block.ravel()
    rng = np.random.default_rng(seed)
    order = rng.permutation(block.max() + 1)
    pos = np.bincount(block, weights=(y == 1), minlength=len(order))
    order = order[np.argsort(-pos[order], kind="stable")]  # blocks rich in deposits first
    fold_of_block = np.empty(len(order), np.int64)
    n_pos, n_all = np.zeros(k), np.zeros(k)
    cnt = np.bincount(block, minlength=len(order))
    for b in order:
        f = int(np.lexsort((n_all, n_pos))[0])
        fold_of_block[b] = f
        n_pos[f] += pos[b]
        n_all[f] += cnt[b]
    folds = fold_of_block[block]
    if (n_pos == 0).any():
        raise GeoMLError(f"With blocks of {block_size:g} map units, only {int((n_pos > 0).sum())} of {k} folds get a "
                         "deposit; use smaller blocks or fewer folds.")
    return folds


def auc_scores(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """ROC AUC and PR AUC (average precision) of probabilities *p* for labels *y*."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float(roc_auc_score(y, p)), float(average_precision_score(y, p))


def success_rate(area_scores: np.ndarray, deposit_scores: np.ndarray, n: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Share of deposits captured vs share of area ranked most prospective.

    *area_scores* are the scores of every cell (or of the background sample standing for the
    area), *deposit_scores* those at the deposits. Returns ``(area_share, captured_share)``,
    each ``(n,)``, from 0 to 1.
    """
    area = np.sort(np.asarray(area_scores, float)[np.isfinite(area_scores)])[::-1]
    dep = np.asarray(deposit_scores, float)
    dep = dep[np.isfinite(dep)]
    if len(area) == 0 or len(dep) == 0:
        raise GeoMLError("No scored cells or no scored deposits to build a success-rate curve.")
    share = np.linspace(0, 1, n)
    idx = np.clip(np.ceil(share * len(area)).astype(int) - 1, 0, len(area) - 1)
    thresholds = np.where(share > 0, area[idx], np.inf)
    captured = (dep[None, :] >= thresholds[:, None]).mean(axis=1)
    return share, captured


def capture_efficiency(area_scores: np.ndarray, deposit_scores: np.ndarray,
                       at: Sequence[float] = CAPTURE_AT) -> dict[float, float]:
    """Share of deposits inside the top ``q`` share of area, for each ``q`` in *at*."""
    area = np.sort(np.asarray(area_scores, float)[np.isfinite(area_scores)])[::-1]
    dep = np.asarray(deposit_scores, float)
    dep = dep[np.isfinite(dep)]
    return {q: float((dep >= area[max(int(np.ceil(q * len(area))) - 1, 0)]).mean()) for q in at}


def area_auc(share: np.ndarray, captured: np.ndarray) -> float:
    """Area under the success-rate curve (0.5 = random ranking)."""
    return float(np.trapz(captured, share))


@dataclass
class CVResult:
    """Cross-validation of one method: per-fold ROC and PR AUC, and the out-of-fold probabilities."""

    method: str
    roc_auc: list[float] = field(default_factory=list)
    pr_auc: list[float] = field(default_factory=list)
    oof: np.ndarray | None = None
    extra: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        r, p = np.asarray(self.roc_auc), np.asarray(self.pr_auc)
        return {"method": self.method, "roc_auc_mean": float(r.mean()), "roc_auc_sd": float(r.std(ddof=1)),
                "pr_auc_mean": float(p.mean()), "pr_auc_sd": float(p.std(ddof=1)),
                "folds": len(r)}


def cross_validate(make_model: Callable[[], object], X: np.ndarray, y: np.ndarray, folds: np.ndarray,
                   method: str = "", progress: ProgressCallback | None = None,
                   extra_metrics: Callable[[np.ndarray, np.ndarray], dict] | None = None,
                   on_fold: Callable[[object, np.ndarray, np.ndarray], None] | None = None,
                   uncertainty: Callable[[object, np.ndarray], np.ndarray] | None = None) -> CVResult:
    """Fit ``make_model()`` on all folds but one and score the held-out fold, for each fold.

    ``make_model`` returns an unfitted estimator with ``fit(X, y)`` and ``predict_proba(X) -> (n,)``.
    Returns per-fold ROC/PR AUC (scored on the held-out fold only) and out-of-fold probabilities.
    ``on_fold(model, X_test, y_test)`` is called with each fitted fold model (e.g. for permutation importance).
    *uncertainty* ``(fitted model, X) -> (n,)`` adds, per fold, how useful that uncertainty is
    (coverage, sharpness, uncertainty-error correlation; :func:`~.calibration.uncertainty_metrics`).
    """
    from .calibration import uncertainty_metrics

    res = CVResult(method or "model", oof=np.full(len(y), np.nan))
    k = int(folds.max()) + 1
    for f in range(k):
        test = folds == f
        model = make_model().fit(X[~test], y[~test])
        p = model.predict_proba(X[test])
        res.oof[test] = p
        roc, pr = auc_scores(y[test], p)
        res.roc_auc.append(roc)
        res.pr_auc.append(pr)
        metrics = extra_metrics(y[test], p) if extra_metrics is not None else {}
        if uncertainty is not None:
            metrics.update(uncertainty_metrics(y[test], p, uncertainty(model, X[test])))
        if metrics:
            res.extra.append(metrics)
        if on_fold is not None:
            on_fold(model, X[test], y[test])
        report(progress, (f + 1) / k)
    return res
