"""Labels at a chosen k refined by the assay noise model: log-normal noise, censoring, unit shares.

k-means on log-ratio coordinates treats every cluster as equally likely and cells below detection
as values (:func:`~.kseparation.clustering_coordinates` spreads them by random draws, which adds
noise). The refinement labels each sample by the likelihood of a simple model of assays instead,
the one analytical and sampling noise follows: in log space a unit is a mean per element with
independent noise of one standard deviation ``sigma`` shared by all elements and units; a cell
below detection contributes the probability of falling below its limit (``log Phi``), not a value;
a unit's share of the samples is its prior. For the clr transform every sample also gets its own
offset (closure: a composition is known up to a constant factor), estimated from its detected cells.

Classification EM from the given partition: the means per unit (censored cells replaced by their
expected value below the limit, Tobit-style), ``sigma`` and the shares are estimated from the
labels, every sample goes to the unit of highest posterior, until no label changes (at most
``max_iter`` rounds). Samples across gradational contacts, mixtures of two units, go to whichever
unit explains them best, as the Bayes rule with known units would do. Untransformed values (none)
keep their labels: no noise model is assumed for them.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .kmodel import censored_cells


def _offsets(logs: np.ndarray, detected: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(n, k) closure offset of each sample under each unit: mean over its detected cells of log - mean."""
    count = np.maximum(detected.sum(axis=1), 1)[:, None]
    return ((logs * detected).sum(axis=1)[:, None] - detected @ means.T) / count


def refine_labels(values: np.ndarray, labels: np.ndarray, transform: str = "clr",
                  max_iter: int = 30) -> np.ndarray:
    """(n,) labels 0..k-1 of cleaned (n, m) *values* refined by the noise model (module notes); the
    refinement stops before a round that would empty a cluster, so k is kept."""
    labels = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
    if transform not in ("log", "clr") or labels.max() < 1:
        return labels
    values = np.asarray(values, float)
    logs = np.log(values)
    cens = censored_cells(values)
    detected = (~cens).astype(float)
    limit = np.where(cens.any(axis=0), np.log(2.0 * values.min(axis=0)), np.inf)  # cleaning wrote half the limit
    closure = transform == "clr"
    has_cens = bool(cens.any())
    filled = logs.copy()
    for _ in range(max_iter):
        k = labels.max() + 1
        onehot = np.eye(k)[labels]
        counts = onehot.sum(axis=0)
        means = (onehot.T @ filled) / counts[:, None]
        shift = _offsets(filled, np.ones_like(detected), means)[np.arange(len(labels)), labels] if closure else 0.0
        centred = filled - (shift[:, None] if closure else 0.0)
        means = (onehot.T @ centred) / counts[:, None]
        resid = (centred - means[labels]) * detected
        dof = max(detected.sum() - k * logs.shape[1] - (len(logs) if closure else 0), 1.0)
        sigma = max(float(np.sqrt((resid**2).sum() / dof)), 1e-6)
        off = _offsets(logs, detected, means) if closure else np.zeros((len(logs), k))
        score = np.empty((len(logs), k))
        for u in range(k):
            mu = means[u][None, :] + off[:, u:u + 1]
            cell = -0.5 * ((logs - mu) / sigma) ** 2
            if has_cens:  # censored cells: the probability of falling below the limit (only where needed)
                cell[cens] = norm.logcdf((np.broadcast_to(limit, mu.shape)[cens] - mu[cens]) / sigma)
            score[:, u] = cell.sum(axis=1) + np.log(counts[u] / len(labels))
        new = score.argmax(axis=1)
        if len(np.unique(new)) < k:  # a cluster would empty: keep k, stop at the last full labelling
            break
        # censored cells at their expected value below the limit under their (new) unit, for the next means
        mu = means[new] + off[np.arange(len(logs)), new][:, None]
        filled = logs.copy()
        if has_cens:
            m_c, a = mu[cens], (np.broadcast_to(limit, mu.shape)[cens] - mu[cens]) / sigma
            filled[cens] = np.minimum(m_c - sigma * np.exp(norm.logpdf(a) - norm.logcdf(a)),
                                      np.broadcast_to(limit, mu.shape)[cens])
        if np.array_equal(new, labels):
            break
        labels = new
    return labels
