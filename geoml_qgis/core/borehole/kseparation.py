"""Choosing the number of clusters by separation: the most clusters that are all distinct units.

For k = 1 .. k_max, k-means (``n_init`` restarts) is fitted in log-ratio coordinates *without*
standardisation: for clr the ilr balances of the clr (Aitchison distances, so uninformative
elements, pure noise, are not blown up to the weight of informative ones); for log and none the
values as they are. Cells below detection are kept at the value cleaning gave them (half the limit):
a unit poor in an element is then constant in it, which helps k-means.

A k-means solution passes when every cluster is a distinct unit:

* **separated**: the Mahalanobis distance between the means of every pair of clusters, under their
  pooled within-cluster covariance, is at least ``min_separation`` (3.5: two equal units this far
  apart are mistaken for each other about 4 % of the time, the Bayes error of a separable unit);
  a unit cut in two gives halves about 1.6 apart;
* **not trivial**: every cluster holds at least ``min_share`` of the samples (3 %);
* **not a mixture**: no cluster's mean lies within ``min_mixing`` (2.5, same distance) of the
  mixing line of two other clusters, i.e. of ``t * A + (1 - t) * B`` (t in 0.05-0.95, in
  concentrations, closed for clr). Samples across gradational contacts are such physical mixtures
  and in log-ratio space they form a group of their own between the two units.

The chosen k is the largest that passes (k = 1 always does). The score of a k is
``min(separation / min_separation, mixing / min_mixing, share / min_share)`` (>= 1 passes).
Confidence: ``min(score of k, 1 / score of the runner-up)`` where the runner-up is k + 1 (k - 1 at
k_max); below 1.2 the evidence is called weak (a cluster or the runner-up is near a threshold).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from .compositional import balance_basis
from .kselect import MAX_SELECTION_SAMPLES, KSelection
from .transforms import apply_transform

MIN_SEPARATION = 3.5
MIN_MIXING = 2.5
MIN_SHARE = 0.03
WEAK = 1.2
_T = np.linspace(0.05, 0.95, 37)


def _coordinates(values: np.ndarray, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Coordinates for k-means and the ilr basis (None unless clr)."""
    z = apply_transform(values, transform)
    if transform == "clr":
        basis = balance_basis(z.shape[1])
        return z @ basis, basis
    return z, None


def _mixing_curve(a: np.ndarray, b: np.ndarray, transform: str, basis: np.ndarray | None) -> np.ndarray:
    """(len(_T), m) coordinates of the mixtures t * A + (1 - t) * B of two cluster means."""
    t = _T[:, None]
    if transform == "none":
        return t * a + (1 - t) * b
    if basis is not None:
        a, b = a @ basis.T, b @ basis.T  # back to clr
    top = max(a.max(), b.max())
    logs = np.log(t * np.exp(a - top) + (1 - t) * np.exp(b - top))
    if basis is None:
        return logs + top
    return (logs - logs.mean(axis=1, keepdims=True)) @ basis


def cluster_separation(X: np.ndarray, labels: np.ndarray, transform: str = "clr",
                       basis: np.ndarray | None = None) -> dict[str, float]:
    """Closest pair (Mahalanobis, pooled covariance), smallest share and closest mixing-line distance
    of the clusters *labels* (n,) 0..k-1 of coordinates X (n, m)."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    if k == 1:
        return {"separation": np.inf, "smallest_share": 1.0, "mixing": np.inf}
    if (sizes < 2).any():
        return {"separation": 0.0, "smallest_share": sizes.min() / len(X), "mixing": np.inf}
    means = np.array([X[labels == c].mean(axis=0) for c in range(k)])
    resid = X - means[labels]
    precision = np.linalg.pinv(resid.T @ resid / (len(X) - k), rcond=1e-10)
    diff = means[:, None] - means[None]
    dist = np.sqrt(np.maximum(np.einsum("abi,ij,abj->ab", diff, precision, diff), 0))
    dist[np.diag_indices(k)] = np.inf
    mixing = np.inf
    for a in range(k):
        for b in range(a + 1, k):
            curve = _mixing_curve(means[a], means[b], transform, basis)
            for c in set(range(k)) - {a, b}:
                d = means[c] - curve
                mixing = min(mixing, float(np.sqrt(max(np.einsum("ti,ij,tj->t", d, precision, d).min(), 0))))
    return {"separation": float(dist.min()), "smallest_share": float(sizes.min() / len(X)), "mixing": mixing}


def select_k_separation(values: np.ndarray, transform: str = "clr", k_max: int = 10, seed: int = 0,
                        n_init: int = 10, k_min: int = 1,
                        progress: ProgressCallback | None = None) -> KSelection:
    """The largest k whose k-means clusters are all separated, non-trivial and not mixtures (module
    notes), on cleaned (n, m) *values*; table columns k, inertia, separation, smallest_share, mixing,
    score, passes. From *k_min* on: when only k = 1 passes and clusters are wanted, the best-scoring
    k >= k_min is taken and the evidence says the samples show no clear cluster structure."""
    from sklearn.cluster import KMeans

    X, basis = _coordinates(np.asarray(values, float), transform)
    rng = np.random.default_rng(seed)
    if len(X) > MAX_SELECTION_SAMPLES:
        X = X[rng.choice(len(X), MAX_SELECTION_SAMPLES, replace=False)]
    k_max = int(min(k_max, len(X) - 1))
    if k_max < 2:
        raise GeoMLError(f"Only {len(X)} sample(s): at least 3 are needed to choose a number of clusters.")
    rows = []
    for k in range(1, k_max + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fewer distinct points than clusters: that k simply fails
            km = KMeans(k, n_init=n_init, random_state=seed).fit(X)
        row = {"k": k, "inertia": float(km.inertia_), **cluster_separation(X, km.labels_, transform, basis)}
        row["score"] = min(row["separation"] / MIN_SEPARATION, row["mixing"] / MIN_MIXING,
                           row["smallest_share"] / MIN_SHARE)
        row["passes"] = bool(row["score"] >= 1)
        rows.append(row)
        report(progress, k / k_max)
    table = pd.DataFrame(rows)
    score = table["score"].to_numpy()
    k = int(table.loc[table["passes"], "k"].max())
    no_structure = k < k_min
    if no_structure:
        k = int(table.loc[table["k"] >= k_min, :].sort_values("score", ascending=False)["k"].iloc[0])
    runner = k + 1 if k < k_max else k - 1
    own = min(score[k - 1], 1e6)
    confidence = float(min(own, 1.0 / max(score[runner - 1], 1e-6)) if runner > k else own)
    sel = KSelection(table, None, {"separation": k}, k, method="separation", confidence=confidence,
                     runner_up=runner)
    worst = table.iloc[k - 1]
    sel.evidence = (f"k = {k} chosen by separation: the most clusters that are all distinct units (closest pair "
                    f"{worst['separation']:.1f} Mahalanobis units apart, threshold {MIN_SEPARATION}; smallest "
                    f"{100 * worst['smallest_share']:.0f} % of the samples; no cluster a mixture of two others); "
                    f"runner-up k = {runner}; confidence {confidence:.2f}.")
    if confidence < WEAK:
        sel.evidence += " Weak evidence: a cluster or the runner-up is close to a threshold; look at the runner-up too."
    if no_structure:
        sel.evidence += (" Weak evidence: no split into two or more distinct units passes (k = 1); the clusters "
                         "may only cut a continuum.")
    return sel
