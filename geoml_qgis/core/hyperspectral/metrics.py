"""Accuracy figures of a class map against a reference: overall accuracy, Cohen's kappa, per-class F1."""
from __future__ import annotations

import numpy as np


def confusion(truth: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix ``(n_classes, n_classes + 1)``: rows true class 1..k, columns predicted 1..k then unclassified."""
    t = np.asarray(truth).ravel().astype(np.int64)
    p = np.asarray(pred).ravel().astype(np.int64)
    keep = (t >= 1) & (t <= n_classes)
    t, p = t[keep] - 1, p[keep]
    p = np.where((p >= 1) & (p <= n_classes), p - 1, n_classes)
    return np.bincount(t * (n_classes + 1) + p, minlength=n_classes * (n_classes + 1)).reshape(n_classes, n_classes + 1)


def scores(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict:
    """``{"accuracy", "kappa", "f1": {class: F1}, "confusion": list of rows, "n"}``; unclassified counts as wrong."""
    k = len(classes)
    cm = confusion(truth, pred, k)
    n = cm.sum()
    diag = np.diag(cm[:, :k]).astype(float)
    acc = diag.sum() / n if n else float("nan")
    row = cm.sum(axis=1).astype(float)
    col = cm[:, :k].sum(axis=0).astype(float)
    expected = (row * col).sum() / (n * n) if n else 0.0
    kappa = (acc - expected) / (1 - expected) if expected < 1 else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(row + col > 0, 2 * diag / (row + col), np.nan)
    return {"accuracy": float(acc), "kappa": float(kappa), "n": int(n), "confusion": cm.tolist(),
            "f1": {c: float(f) for c, f in zip(classes, f1)}}
