"""Choosing the number of clusters by separation: the most clusters that are all distinct units.

Coordinates: log-ratios *without* standardisation: for clr the ilr balances of the clr (Aitchison
distances, so uninformative elements, pure noise, are not blown up to the weight of informative
ones); for log the logs; for none the values standardised (mixing stays linear). Cells below
detection (the element's minimum repeated in at least 1 % of samples, see
:func:`~.kmodel.censored_cells`) are spread by seeded draws below the limit for the *partition
search* and the final clustering (:func:`clustering_coordinates`): left at half the limit they form
a spike that k-means cuts off as a cluster of its own. The separation of a partition is measured
on the cleaned values as they are.

For k = 1 .. k_max candidate partitions are k-means (``n_init`` restarts) and, from k = 2 on, each
cluster of the best (k - 1)-partition split in two (2-means inside it, then k-means over all
samples from those centres): k-means with many units of unequal size tends to cut a thick unit in
two rather than isolate a thin one, which the split of the cluster holding the thin unit finds.
The partition with the highest score (below) is kept for each k.

A partition passes when every cluster is a distinct unit:

* **separated**: the Mahalanobis distance between the means of every pair of clusters, under their
  pooled within-cluster covariance, is at least ``min_separation`` (3.0: two equal units this far
  apart are mistaken for each other 6.7 % of the time under noise alone; the family calls 5 %, a
  distance of 3.29, separable, but the contact mixtures left in the clusters widen the pooled
  covariance and so shorten the measured distances; 3.0 was the best of 3.0 / 3.25 / 3.5 on the
  development seeds 0 and 1 of ``bench/borehole_kselect.py``); a unit cut in two gives halves
  about 1.6 apart. A pooled covariance with the contact samples down-weighted (each cluster fitted as
  its unit plus mixtures spread along the mixing curves to the other clusters) was tried and dropped:
  k-means gives a contact sample to the nearer unit, near whose centre it cannot be told from the
  unit's own, and the narrower covariance lifts cuts through one unit past the threshold too (right k
  93.5 -> 92.0 % on seed 3, 93.0 -> 92.0 % on 5, 94.5 -> 93.5 % on 4, 95.0 -> 94.0 % on 8). The squared
  distance is the unbiased estimate of the units' distance: the pooled covariance is first scaled
  by ``(n - k) / (n - k - r - 1)`` (r its rank: the inverse of an estimated covariance overstates
  the precision by that factor on average) and the squared distance then reduced by
  ``r (1 / n_a + 1 / n_b)``, what the sampling noise of the two means adds on average. Without
  both, clusters cut out of noise look far apart where samples are few for the number of elements
  (200 samples, 25 elements: about 2.3 for clusters of 9); the other distances below use the same
  scaled covariance;
* **not trivial**: every cluster holds at least ``min_share`` of the samples (3 %);
* **not a mixture**, two tests. Samples across gradational contacts are physical mixtures of the
  units on both sides, ``t * A + (1 - t) * B`` in concentrations (closed for clr), and in
  log-ratio space they form a group of their own between the two units. (1) No cluster's mean lies
  within ``min_mixing`` (2.0, same distance) of the mixing curve of two other clusters (t in
  0.05-0.95). (2) The **mixture fit**: for each cluster, the mean over its samples of the squared
  distance to the nearest point of any mixing curve of two other clusters less the squared distance
  to its own centre (whitened by the pooled covariance) is at least ``min_fit`` (1.0). A unit whose
  centre is D off a mixing curve scores about ``D^2 - 1`` (the free t absorbs one of the noise's
  dimensions); contact samples score below 0 because the curves follow their spread along the mixing
  line, and a group of samples from *several* contacts, whose mean lies off every single curve and so
  passes test (1), still fits the curves sample by sample (about -10 on the family's misses). A
  sample's distance to its own cluster's mean is scaled by ``n_c / (n_c - 1)``: that mean was fitted
  to it, which shortens the squared distance by that factor and let groups of 6-8 contact samples
  pass (many elements, few samples).
* **held out** (:mod:`.kholdout`), where a cluster is small for the number of elements: the
  separation measured on samples the partition was not fitted to is also at least ``min_separation``.

The chosen k is the largest that passes (k = 1 always does). The score of a k is
``min(separation / min_separation, mixing / min_mixing, share / min_share, 1 + (fit - min_fit) / 4)``
(>= 1 passes; a mixture fit 4 above its threshold counts as a separation twice its threshold).
Confidence: ``min(score of k, 1 / score of the runner-up)`` where the runner-up is k + 1 (k - 1 at
k_max); below 1.2 the evidence is called weak (a cluster or the runner-up is near a threshold).
The chosen partition's centres (``KSelection.centres``, in :func:`clustering_coordinates`) start
the final clustering.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ArgumentError, GeoMLError
from ..progress import ProgressCallback, report
from .compositional import balance_basis
from .kholdout import held_out_separation, needs_check, whitening
from .kmodel import spread_censored
from .kselect import MAX_SELECTION_SAMPLES, KSelection, _small_kmeans
from .transforms import apply_transform

MIN_SEPARATION = 3.0
MIN_MIXING = 2.0
MIN_FIT = 1.0
FIT_SCALE = 4.0
FIT_SAMPLES = 2000
MIN_SHARE = 0.03
WEAK = 1.2
#: where :func:`select_k_separation` makes the held-out check: partitions with a small cluster, every one, none
HELD_OUT = ("small", "all", "off")
_T = np.linspace(0.05, 0.95, 37)


def _coordinates(values: np.ndarray, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Coordinates the separation is measured in, and the ilr basis (None unless clr); raw values
    (none) are standardised, as elements in ppm and % cannot be compared otherwise."""
    z = apply_transform(values, transform)
    if transform == "clr":
        basis = balance_basis(z.shape[1])
        return z @ basis, basis
    if transform == "none":
        sd = z.std(axis=0)
        return (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0), None
    return z, None


def clustering_coordinates(values: np.ndarray, transform: str, seed: int = 0) -> np.ndarray:
    """(n, m) cleaned values -> the coordinates partitions are searched in (module notes): as
    :func:`_coordinates`, with cells below detection spread below the limit (log and clr)."""
    values = np.asarray(values, float)
    if transform != "none":
        values = spread_censored(values, seed)
    return _coordinates(values, transform)[0]


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


def _mixture_fit(W: np.ndarray, labels: np.ndarray, means: np.ndarray, transform: str, basis: np.ndarray | None,
                 T: np.ndarray) -> float:
    """Smallest over clusters c of the mean, over c's samples, of (squared distance to the nearest
    mixture of two other clusters - squared distance to c's own centre), in whitened units (module notes).
    At most ``FIT_SAMPLES`` evenly spaced samples of a cluster enter its mean (time and memory)."""
    k = len(means)
    keep = np.concatenate([idx[np.linspace(0, len(idx) - 1, min(len(idx), FIT_SAMPLES)).astype(int)]
                           for idx in (np.flatnonzero(labels == c) for c in range(k))])
    sizes = np.bincount(labels, minlength=k)
    W, labels = W[keep], labels[keep]
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    sq = (W * W).sum(axis=1)
    d2 = np.empty((len(W), len(pairs)))
    for i, (a, b) in enumerate(pairs):  # nearest point of each mixing curve, one pair at a time (memory)
        curve = _mixing_curve(means[a], means[b], transform, basis) @ T
        d2[:, i] = (sq[:, None] - 2 * W @ curve.T + (curve * curve).sum(axis=1)[None, :]).min(axis=1)
    mw = means @ T
    worst = np.inf
    for c in range(k):
        idx = labels == c
        others = [i for i, (a, b) in enumerate(pairs) if c not in (a, b)]
        curve = d2[np.ix_(idx, others)].min(axis=1)
        # a sample's squared distance to the mean of its own n_c samples is short by (n_c - 1) / n_c of
        # its distance to the unit's centre (the mean was fitted to it): unbiased, as a new sample's would be
        own = ((W[idx] - mw[c]) ** 2).sum(axis=1) * sizes[c] / max(sizes[c] - 1, 1)
        worst = min(worst, float(np.mean(curve - own)))
    return worst


def cluster_separation(X: np.ndarray, labels: np.ndarray, transform: str = "clr",
                       basis: np.ndarray | None = None, shrink: bool = False) -> dict[str, float]:
    """Closest pair (Mahalanobis, pooled covariance, less the part the sampling noise of the two
    means adds), smallest share, closest mixing-line distance of a cluster mean and the per-sample
    mixture fit (module notes) of the clusters *labels* (n,) 0..k-1 of coordinates X (n, m).
    ``shrink`` pulls the pooled covariance towards its diagonal by ``m / (n - k + m)``, for few samples (one hole)."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    if k == 1:
        return {"separation": np.inf, "smallest_share": 1.0, "mixing": np.inf, "mixture_fit": np.inf}
    if (sizes < 2).any():
        return {"separation": 0.0, "smallest_share": sizes.min() / len(X), "mixing": np.inf, "mixture_fit": np.inf}
    means = np.array([X[labels == c].mean(axis=0) for c in range(k)])
    resid = X - means[labels]
    cov = resid.T @ resid / (len(X) - k)
    if shrink:
        a = X.shape[1] / (len(X) - k + X.shape[1])
        cov = (1 - a) * cov + a * np.diag(np.diag(cov))
    # the inverse of a covariance estimated from n - k degrees of freedom overstates the precision by
    # (n - k) / (n - k - r - 1) on average (inverse Wishart): without this, clusters cut out of noise
    # look far apart where samples are few for the number of elements
    rank = int(np.linalg.matrix_rank(cov))
    cov = cov * (len(X) - k) / max(len(X) - k - rank - 1, 1)
    T = whitening(cov)
    mw = means @ T
    d2 = ((mw[:, None] - mw[None]) ** 2).sum(axis=2)
    d2 -= T.shape[1] * (1.0 / sizes[:, None] + 1.0 / sizes[None, :])  # the means' own sampling noise
    dist = np.sqrt(np.maximum(d2, 0))
    dist[np.diag_indices(k)] = np.inf
    mixing, fit = np.inf, np.inf
    if k >= 3:
        for a in range(k):
            for b in range(a + 1, k):
                curve = _mixing_curve(means[a], means[b], transform, basis) @ T
                for c in set(range(k)) - {a, b}:
                    mixing = min(mixing, float(np.sqrt(((mw[c] - curve) ** 2).sum(axis=1).min())))
        fit = _mixture_fit(X @ T, labels, means, transform, basis, T)
    return {"separation": float(dist.min()), "smallest_share": float(sizes.min() / len(X)), "mixing": mixing,
            "mixture_fit": fit}


def _score(row: dict[str, float]) -> float:
    return min(row["separation"] / MIN_SEPARATION, row["mixing"] / MIN_MIXING, row["smallest_share"] / MIN_SHARE,
               1.0 + (row["mixture_fit"] - MIN_FIT) / FIT_SCALE)


def _dense(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _kmeans(X: np.ndarray, k: int, seed: int, n_init: int, init: np.ndarray | None = None,
            small: bool = False) -> np.ndarray:
    from sklearn.cluster import KMeans

    if small and init is None:
        return _small_kmeans(X, k, n_init, seed)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer distinct points than clusters: that k simply fails
        if init is not None:
            return KMeans(k, init=init, n_init=1, random_state=seed).fit(X).labels_
        return KMeans(k, n_init=n_init, random_state=seed).fit(X).labels_


def _candidates(Xf: np.ndarray, k: int, previous: np.ndarray | None, seed: int, n_init: int,
                small: bool = False) -> list[np.ndarray]:
    """k-means partitions of Xf into k, and each cluster of *previous* (k - 1 clusters) split in two."""
    out = [_kmeans(Xf, k, seed, n_init, small=small)]
    for c in range(k - 1 if previous is not None else 0):
        idx = np.flatnonzero(previous == c)
        if len(idx) < 4:
            continue
        halves = _kmeans(Xf[idx], 2, seed, 3)
        split = previous.copy()
        split[idx[halves == 1]] = k - 1
        if len(np.unique(split)) < k:
            continue
        centres = np.array([Xf[split == j].mean(axis=0) for j in range(k)])
        out.append(_kmeans(Xf, k, seed, 1, init=centres))
    return [_dense(lab) for lab in out]


def _scan(X: np.ndarray, Xf: np.ndarray, basis: np.ndarray | None, transform: str, k_max: int, seed: int,
          n_init: int, split: bool, shrink: bool,
          progress: ProgressCallback | None) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """The best partition of each k = 1 .. k_max and its separation figures."""
    rows, best = [], {}
    for k in range(1, k_max + 1):
        scored = []
        for labels in _candidates(Xf, k, best.get(k - 1) if split else None, seed, n_init, small=shrink):
            row = {"k": k, **cluster_separation(X, labels, transform, basis, shrink)}
            row["score"] = _score(row)
            scored.append((row, labels))
        row, best[k] = max(scored, key=lambda t: t[0]["score"])  # first (k-means) wins ties
        centred = Xf - np.array([Xf[best[k] == c].mean(axis=0) for c in range(best[k].max() + 1)])[best[k]]
        row["inertia"] = float((centred**2).sum())
        row["passes"] = bool(row["score"] >= 1)
        rows.append(row)
        report(progress, k / k_max)
    cols = ["k", "inertia", "separation", "smallest_share", "mixing", "mixture_fit", "score", "passes"]
    return pd.DataFrame(rows)[cols], best


def _held_out(table: pd.DataFrame, partitions: dict[int, np.ndarray], X: np.ndarray, Xf: np.ndarray,
              seed: int) -> None:
    """Columns held_out (closest held-out distance, :mod:`.kholdout`; NaN where the partition fails
    in sample) and small (a cluster small for the number of elements) of the scan *table*."""
    table["held_out"] = [held_out_separation(X, Xf, partitions[k], seed) if ok else np.nan
                         for k, ok in zip(table["k"], table["passes"])]
    table["small"] = [needs_check(partitions[k], X.shape[1]) for k in table["k"]]


def select_k_separation(values: np.ndarray, transform: str = "clr", k_max: int = 10, seed: int = 0,
                        n_init: int = 10, k_min: int = 1, split: bool = True, shrink: bool = False,
                        held_out: str = "small", progress: ProgressCallback | None = None) -> KSelection:
    """The largest k whose best partition has clusters all separated, non-trivial and not mixtures
    (module notes), on cleaned (n, m) *values*; table columns k, inertia, separation, smallest_share,
    mixing, score, passes. From *k_min* on: when only k = 1 passes and clusters are wanted, the
    best-scoring k >= k_min is taken and the evidence says the samples show no clear cluster structure.
    ``split=False`` searches k-means partitions only; ``shrink`` (one hole: few samples) shrinks the
    covariance as :func:`cluster_separation` does and uses the light NumPy k-means. *held_out*
    (:data:`HELD_OUT`): which passing partitions must also pass the held-out check (:mod:`.kholdout`);
    unless ``"off"`` the table adds the columns held_out (for every partition passing in sample) and small."""
    values = np.asarray(values, float)
    X, basis = _coordinates(values, transform)
    Xf = clustering_coordinates(values, transform, seed)
    if len(X) > MAX_SELECTION_SAMPLES:
        pick = np.random.default_rng(seed).choice(len(X), MAX_SELECTION_SAMPLES, replace=False)
        X, Xf = X[pick], Xf[pick]
    k_max = int(min(k_max, len(X) - 1))
    if k_max < 2:
        raise GeoMLError(f"Only {len(X)} sample(s): at least 3 are needed to choose a number of clusters.")
    if held_out not in HELD_OUT:
        raise ArgumentError(f"{{held_out}} must be one of {', '.join(HELD_OUT)}, not {held_out!r}.")
    table, partitions = _scan(X, Xf, basis, transform, k_max, seed, n_init, split, shrink, progress)
    in_sample = int(table.loc[table["passes"], "k"].max())
    passing = table["passes"]
    if held_out != "off":
        _held_out(table, partitions, X, Xf, seed)
        holds = table["held_out"] >= MIN_SEPARATION
        passing = passing & (holds | ~table["small"] if held_out == "small" else holds)
    score = table["score"].to_numpy()
    k = int(table.loc[passing, "k"].max())
    no_structure = k < k_min
    if no_structure:
        k = int(table.loc[table["k"] >= k_min, :].sort_values("score", ascending=False)["k"].iloc[0])
    runner = k + 1 if k < k_max else k - 1
    own = min(score[k - 1], 1e6)
    confidence = float(min(own, 1.0 / max(score[runner - 1], 1e-6)) if runner > k else own)
    sel = KSelection(table, None, {"separation": k, "separation_in_sample": in_sample}, k, method="separation",
                     confidence=confidence, runner_up=runner)
    sel.centres = np.array([Xf[partitions[k] == c].mean(axis=0) for c in range(k)])
    worst = table.iloc[k - 1]
    sel.evidence = (f"k = {k} chosen by separation: the most clusters that are all distinct units (closest pair "
                    f"{worst['separation']:.1f} Mahalanobis units apart, threshold {MIN_SEPARATION}; smallest "
                    f"{100 * worst['smallest_share']:.0f} % of the samples; no cluster a mixture of two others: "
                    f"mixture fit {min(worst['mixture_fit'], 99):.1f}, threshold {MIN_FIT}); "
                    f"runner-up k = {runner}; confidence {confidence:.2f}.")
    if in_sample > k:
        sel.evidence += (f" k = {in_sample} passes in sample, but its clusters are small for the number of elements "
                         f"and their separation does not hold on held-out samples "
                         f"({table.iloc[in_sample - 1]['held_out']:.1f}, threshold {MIN_SEPARATION}).")
    if confidence < WEAK:
        sel.evidence += " Weak evidence: a cluster or the runner-up is close to a threshold; look at the runner-up too."
    if no_structure:
        sel.evidence += (" Weak evidence: no split into two or more distinct units passes (k = 1); the clusters "
                         "may only cut a continuum.")
    return sel


def select_k_per_hole_separation(values: np.ndarray, holes: np.ndarray, transform: str = "clr", k_max: int = 10,
                                 seed: int = 0, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """The separation choice of k (k-means partitions, light k-means, covariance shrunk towards its
    diagonal: one hole has few samples) for each hole of cleaned (n, m) *values* on its own; holes with
    fewer than 6 samples or 3 distinct compositions are listed, not scored.

    Returns a table: hole, n_samples, chosen_k, runner_up, confidence, separation, smallest_share."""
    values = np.asarray(values, float)
    rows = []
    names = list(dict.fromkeys(holes))
    for i, h in enumerate(names):
        idx = holes == h
        row = {"hole": h, "n_samples": int(idx.sum())}
        v = values[idx]
        if idx.sum() >= 6 and len(np.unique(v.round(12), axis=0)) >= 3:
            sel = select_k_separation(v, transform, min(k_max, int(idx.sum()) - 1), seed, n_init=3, split=False,
                                      shrink=True, held_out="off")
            worst = sel.table.iloc[sel.k - 1]
            row.update({"chosen_k": sel.k, "runner_up": sel.runner_up, "confidence": sel.confidence,
                        "separation": worst["separation"], "smallest_share": worst["smallest_share"]})
        rows.append(row)
        report(progress, (i + 1) / len(names))
    cols = ["hole", "n_samples", "chosen_k", "runner_up", "confidence", "separation", "smallest_share"]
    return pd.DataFrame(rows).reindex(columns=cols)
