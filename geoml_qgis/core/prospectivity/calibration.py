"""Calibration of predicted probabilities on held-out data: ECE, MCE, NLL, Brier score."""
from __future__ import annotations

import numpy as np


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width probability bin: mean predicted probability, observed frequency, count (each ``(bins,)``)."""
    y, p = np.asarray(y, float), np.clip(np.asarray(p, float), 0, 1)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(idx, weights=p, minlength=bins) / n
        freq = np.bincount(idx, weights=y, minlength=bins) / n
    return conf, freq, n


def calibration_metrics(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, float]:
    """``ece`` (count-weighted mean |observed - predicted| over bins), ``mce`` (largest such gap),
    ``nll`` (mean negative log-likelihood, p clipped to [1e-7, 1 - 1e-7]) and ``brier`` (mean squared error)."""
    conf, freq, n = reliability(y, p, bins)
    gap = np.abs(freq - conf)[n > 0]
    y, q = np.asarray(y, float), np.clip(np.asarray(p, float), 1e-7, 1 - 1e-7)
    return {"ece": float((gap * n[n > 0]).sum() / n.sum()), "mce": float(gap.max()),
            "nll": float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean()), "brier": float(((q - y) ** 2).mean())}


def uncertainty_metrics(y: np.ndarray, p: np.ndarray, u: np.ndarray, confidence: float = 0.9,
                        bins: int = 10) -> dict[str, float]:
    """How useful an uncertainty ``u`` (probability units) is, on held-out labels ``y`` (each ``(n,)``).

    - ``coverage``: share of points in probability bins whose observed deposit frequency lies inside the
      bin's mean interval ``[p - z u, p + z u]`` (z: normal quantile of *confidence*); labels are 0/1, so
      intervals are judged against frequencies, not single labels
    - ``sharpness``: mean interval width ``2 z u`` (smaller is sharper)
    - ``error_correlation``: Spearman correlation of ``u`` with the error ``|y - p|``
    """
    from scipy.stats import norm, spearmanr

    y, p, u = (np.asarray(a, float) for a in (y, p, u))
    z = float(norm.ppf(confidence))
    idx = np.minimum((np.clip(p, 0, 1) * bins).astype(int), bins - 1)
    covered = 0
    for b in np.unique(idx):
        sel = idx == b
        lo, hi = np.mean(np.clip(p[sel] - z * u[sel], 0, 1)), np.mean(np.clip(p[sel] + z * u[sel], 0, 1))
        covered += sel.sum() * (lo <= y[sel].mean() <= hi)
    rho = spearmanr(u, np.abs(y - p)).correlation if np.ptp(u) > 0 else 0.0
    return {"coverage": float(covered / len(y)), "sharpness": float(np.mean(2 * z * u)),
            "error_correlation": float(rho)}
