"""Choosing the number of clusters: kneedle on the inertia curve plus three internal indices.

Over ``k = 1 .. k_max`` k-means gives the within-cluster sum of squares (inertia); its knee
is found with a kneedle-style detection (Satopää et al., 2011: normalise the curve to the
unit square, take its distance below the chord, accept the first local maximum that the
curve then falls a threshold below). Silhouette (highest best), Calinski-Harabasz (highest
best) and Davies-Bouldin (lowest best) are computed for ``k = 2 .. k_max``. The chosen k is
the one most of the four criteria agree on; a tie goes to the knee, then the silhouette.

The curves use scikit-learn's KMeans on at most 20,000 randomly chosen samples (the final
clustering uses every sample). :func:`_small_kmeans` is a light NumPy k-means (k-means++ seeding,
Lloyd iterations, best of ``n_init`` runs) for the per-hole choice
(:func:`~.kseparation.select_k_per_hole_separation`), which needs hundreds of small fits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from ..errors import GeoMLError
from ..progress import ProgressCallback, report

SILHOUETTE_SAMPLE = 3000
MAX_SELECTION_SAMPLES = 20000


def kneedle(x: np.ndarray, y: np.ndarray, sensitivity: float = 1.0) -> float | None:
    """The knee of a decreasing convex curve ``y(x)`` (x increasing), or None if it has none.

    Parameters
    ----------
    x, y : (n,) arrays, n >= 3
    sensitivity : the kneedle S parameter; larger waits for a clearer knee
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    diff = (1.0 - xn) - yn  # distance below the chord from (0, 1) to (1, 0)
    step = np.mean(np.diff(xn))
    maxima = [i for i in range(1, len(x) - 1) if diff[i] > diff[i - 1] and diff[i] >= diff[i + 1]]
    for n_max, i in enumerate(maxima):
        threshold = diff[i] - sensitivity * step
        nxt = maxima[n_max + 1] if n_max + 1 < len(maxima) else len(x)
        if (diff[i + 1:nxt] < threshold).any() or nxt == len(x):
            if diff[i] > 1e-6:  # a straight line (up to rounding) has no knee
                return float(x[i])
    return None


@dataclass
class KSelection:
    """Scores over the k range and the decision.

    ``table`` has columns k, inertia, silhouette, calinski_harabasz, davies_bouldin
    (indices NaN at k = 1); ``votes`` maps each criterion to its best k.
    """

    table: pd.DataFrame
    knee: int | None
    votes: dict[str, int]
    k: int
    method: str = "vote"
    confidence: float = float("nan")
    runner_up: int | None = None
    delta_bic: float = float("nan")
    evidence: str = ""
    centres: np.ndarray | None = None  # the chosen partition's centres, where the method has them


def _vote_evidence(sel: KSelection) -> None:
    """Confidence of a vote: the share of criteria that chose k; the runner-up: the next most chosen k."""
    ks = list(sel.votes.values())
    sel.confidence = ks.count(sel.k) / len(ks)
    others = [k for k in ks if k != sel.k]
    sel.runner_up = max(set(others), key=others.count) if others else None
    sel.evidence = (f"k = {sel.k} chosen by {ks.count(sel.k)} of {len(ks)} criteria ({sel.votes})"
                    + (f"; runner-up k = {sel.runner_up}." if sel.runner_up else "."))
    if sel.confidence <= 0.5:
        sel.evidence += " Weak evidence: the criteria disagree; look at the runner-up too."


def _choose(votes: dict[str, int]) -> int:
    ks = list(votes.values())
    counts = {k: ks.count(k) for k in ks}
    top = max(counts.values())
    tied = [k for k, c in counts.items() if c == top]
    for name in ("knee", "silhouette", "calinski_harabasz", "davies_bouldin"):
        if votes.get(name) in tied:
            return int(votes[name])
    return int(tied[0])


def _small_kmeans(X: np.ndarray, k: int, n_init: int, seed: int, max_iter: int = 100) -> tuple[np.ndarray, float]:
    """Labels and inertia of the best of *n_init* k-means runs (greedy k-means++ seeding, Lloyd
    iterations until no label changes), for small sample sets where scikit-learn's per-call overhead dominates."""
    rng = np.random.default_rng(seed)
    sq = (X * X).sum(axis=1)
    best = None
    for _ in range(n_init):
        centres = [X[rng.integers(len(X))]]
        d2 = ((X - centres[0]) ** 2).sum(axis=1)
        for _ in range(1, k):  # greedy k-means++: the best of a few candidates drawn by squared distance
            if d2.sum() <= 0:
                centres.append(X[rng.integers(len(X))])
                continue
            cand = X[rng.choice(len(X), size=2 + int(np.log(k)), p=d2 / d2.sum())]
            trial = np.minimum(d2[None, :], ((X[None, :, :] - cand[:, None, :]) ** 2).sum(axis=2))
            best_c = int(trial.sum(axis=1).argmin())
            centres.append(cand[best_c])
            d2 = trial[best_c]
        centres = np.array(centres)
        labels = np.full(len(X), -1)
        for _ in range(max_iter):
            dist = sq[:, None] - 2 * X @ centres.T + (centres * centres).sum(axis=1)[None, :]
            new = dist.argmin(axis=1)
            if (new == labels).all():
                break
            labels = new
            onehot = np.eye(k)[labels]
            counts = onehot.sum(axis=0)
            filled = counts > 0  # an emptied cluster keeps its centre
            centres[filled] = (onehot.T @ X)[filled] / counts[filled, None]
        inertia = float(((X - centres[labels]) ** 2).sum())
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    return best


def select_k(X: np.ndarray, k_max: int = 10, seed: int = 0, n_init: int = 4,
             progress: ProgressCallback | None = None) -> KSelection:
    """Scores of k-means for k = 1 .. k_max on features X of shape (n, m)."""
    X = np.asarray(X, float)
    if len(X) > MAX_SELECTION_SAMPLES:
        X = X[np.random.default_rng(seed).choice(len(X), MAX_SELECTION_SAMPLES, replace=False)]
    n = len(X)
    k_max = int(min(k_max, n - 1))
    if k_max < 2:
        raise GeoMLError(f"Only {n} sample(s): at least 3 are needed to choose a number of clusters.")
    rows = []
    for k in range(1, k_max + 1):
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
        labels, inertia = km.labels_, float(km.inertia_)
        row = {"k": k, "inertia": inertia, "silhouette": np.nan, "calinski_harabasz": np.nan,
               "davies_bouldin": np.nan}
        if k >= 2 and len(np.unique(labels)) >= 2:
            row["silhouette"] = float(silhouette_score(
                X, labels, sample_size=min(n, SILHOUETTE_SAMPLE), random_state=seed))
            row["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
            row["davies_bouldin"] = float(davies_bouldin_score(X, labels))
        rows.append(row)
        report(progress, k / k_max)
    table = pd.DataFrame(rows)
    knee = kneedle(table["k"].to_numpy(), table["inertia"].to_numpy())
    scored = table.dropna()
    if scored.empty:
        raise GeoMLError("The samples are too alike to form two clusters.")
    votes = {
        "silhouette": int(scored.loc[scored["silhouette"].idxmax(), "k"]),
        "calinski_harabasz": int(scored.loc[scored["calinski_harabasz"].idxmax(), "k"]),
        "davies_bouldin": int(scored.loc[scored["davies_bouldin"].idxmin(), "k"]),
    }
    if knee is not None and knee >= 2:
        votes = {"knee": int(knee), **votes}
    sel = KSelection(table, int(knee) if knee is not None else None, votes, _choose(votes))
    _vote_evidence(sel)
    return sel
