"""Held-out separation: does a partition's separation hold on samples it was not fitted to?

k-means *chooses* the cut that separates the samples best, so where samples are few for the number
of elements (a ~30-sample unit, 25 elements) it finds a direction along which the noise happens to
split a unit into two groups, and the in-sample separation of such a cut is biased upward past the
threshold. The check: the samples are split at random (fixed seed) into two halves; on one half the
partition is refitted (Lloyd iterations from the chosen partition's centres computed on that half
only), the other half's samples go to the nearest refitted centre, and the separation figures
(:func:`~.kseparation.cluster_separation`) are measured on the held-out half alone; then the halves
swap. A real unit keeps its distance on held-out samples (the unbiased Mahalanobis distance is
unbiased there, as nothing was chosen on them); a cut through the noise of one unit falls to what
a plane through a Gaussian gives: means 1.6 noise standard deviations apart, 1.6 under a pooled
covariance made mostly of other clusters and at most about 2.7 when the cut unit dominates it (the
spread across the cut shrinks to 0.36 of the variance), below the threshold of 3.0.

The held-out distance of a pair is the root mean of its two folds' unbiased squared distances
(two estimates of the same distance: averaging halves the variance that halving the samples added).
A partition passes when that closest held-out distance is at least ``min_separation`` and both folds
keep k non-empty clusters. The check is applied only where the selection bias is large: when the
chosen partition has a cluster smaller than ``SMALL_CLUSTER`` samples per element (the bias of the
in-sample distance grows as the number of elements over the cluster size); see
:func:`held_out_separation`.
"""
from __future__ import annotations

import numpy as np

SMALL_CLUSTER = 2.0  # check a partition whose smallest cluster has fewer samples than this many per element
MIN_HELD_OUT = 2  # a held-out cluster needs at least this many samples to be measured


def whitening(cov: np.ndarray) -> np.ndarray:
    """(m, r) map to coordinates where the pooled covariance *cov* is the identity (r its rank)."""
    w, v = np.linalg.eigh(cov)
    keep = w > max(w.max(), 1e-300) * 1e-10
    return v[:, keep] / np.sqrt(w[keep])


def _lloyd(X: np.ndarray, centres: np.ndarray, max_iter: int = 50) -> np.ndarray:
    """Centres after Lloyd iterations on X from *centres* (an emptied cluster keeps its centre)."""
    centres = centres.copy()
    labels = None
    for _ in range(max_iter):
        new = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for c in range(len(centres)):
            if (labels == c).any():
                centres[c] = X[labels == c].mean(axis=0)
    return centres


def _pair_d2(X: np.ndarray, labels: np.ndarray, k: int, rank_cap: int) -> np.ndarray | None:
    """(k, k) unbiased squared Mahalanobis distances between the clusters *labels* of X (as
    :func:`~.kseparation.cluster_separation`), or None when a cluster has fewer than MIN_HELD_OUT samples."""
    sizes = np.bincount(labels, minlength=k)
    if (sizes < MIN_HELD_OUT).any():
        return None
    means = np.array([X[labels == c].mean(axis=0) for c in range(k)])
    resid = X - means[labels]
    dof = len(X) - k
    cov = resid.T @ resid / dof
    rank = min(int(np.linalg.matrix_rank(cov)), rank_cap)
    cov = cov * dof / max(dof - rank - 1, 1)
    T = whitening(cov)
    mw = means @ T
    d2 = ((mw[:, None] - mw[None]) ** 2).sum(axis=2)
    d2 -= T.shape[1] * (1.0 / sizes[:, None] + 1.0 / sizes[None, :])
    d2[np.diag_indices(k)] = np.inf
    return d2


def held_out_separation(X: np.ndarray, Xf: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Closest held-out distance (module notes) of the partition *labels* (n,) 0..k-1, clusters
    fitted in Xf (the clustering coordinates), distances measured in X (the separation coordinates);
    0 when a fold loses a cluster or holds too few samples of one; inf for k = 1."""
    k = int(labels.max()) + 1
    if k == 1:
        return np.inf
    half = np.random.default_rng(seed).permutation(len(X)) < len(X) // 2
    total = np.zeros((k, k))
    for fit in (half, ~half):
        held = ~fit
        start = np.array([Xf[fit & (labels == c)].mean(axis=0) if (fit & (labels == c)).any()
                          else Xf[labels == c].mean(axis=0) for c in range(k)])
        centres = _lloyd(Xf[fit], start)
        lab = ((Xf[held][:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        d2 = _pair_d2(X[held], lab, k, X.shape[1])
        if d2 is None:
            return 0.0
        total += d2 / 2
    return float(np.sqrt(max(total.min(), 0.0)))


def needs_check(labels: np.ndarray, n_elements: int) -> bool:
    """Whether the partition has a cluster small for the number of elements (module notes)."""
    sizes = np.bincount(labels)
    return bool(len(sizes) > 1 and sizes.min() < SMALL_CLUSTER * n_elements)
