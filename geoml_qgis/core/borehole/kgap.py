"""Choosing the number of clusters by the gap statistic (Tibshirani, Walther and Hastie, 2001).

For k = 1 .. k_max, ``W_k`` is the k-means within-cluster sum of squares of the features and
``W*_k`` the same on B reference sets drawn uniformly in the box of the data's principal axes
(no cluster structure, same extent). ``Gap(k) = mean(log W*_k) - log W_k``, ``s_k`` the
reference standard deviation times ``sqrt(1 + 1/B)``. The chosen k is the smallest with
``Gap(k) >= Gap(k+1) - s_(k+1)``. Confidence: by how many standard errors the chosen k beats the
next (``(Gap(k) - Gap(k+1)) / s_(k+1) + 1``); below 1 the evidence is called weak. The runner-up
is the k with the largest gap among the others.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from .kselect import MAX_SELECTION_SAMPLES, KSelection


def select_k_gap(X: np.ndarray, k_max: int = 10, seed: int = 0, n_refs: int = 5, k_min: int = 1,
                 progress: ProgressCallback | None = None) -> KSelection:
    """Gap statistic for k = 1 .. k_max on features X (n, m); table columns k, log_w, gap, gap_sd.

    The rule is applied from *k_min* on (2 when clusters are wanted whatever the data); when the
    gap would have chosen 1 the evidence says the samples show no clear cluster structure."""
    from sklearn.cluster import KMeans

    X = np.asarray(X, float)
    rng = np.random.default_rng(seed)
    if len(X) > MAX_SELECTION_SAMPLES:
        X = X[rng.choice(len(X), MAX_SELECTION_SAMPLES, replace=False)]
    k_max = int(min(k_max, len(X) - 1))
    if k_max < 2:
        raise GeoMLError(f"Only {len(X)} sample(s): at least 3 are needed to choose a number of clusters.")
    centred = X - X.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    rotated = centred @ axes.T
    refs = [rng.uniform(rotated.min(axis=0), rotated.max(axis=0), rotated.shape) @ axes for _ in range(n_refs)]
    rows = []
    for k in range(1, k_max + 1):
        log_w = np.log(max(KMeans(k, n_init=2, random_state=seed).fit(X).inertia_, 1e-300))
        ref = np.log([max(KMeans(k, n_init=1, random_state=seed).fit(r).inertia_, 1e-300) for r in refs])
        rows.append({"k": k, "log_w": float(log_w), "gap": float(ref.mean() - log_w),
                     "gap_sd": float(ref.std() * np.sqrt(1 + 1 / n_refs))})
        report(progress, k / k_max)
    table = pd.DataFrame(rows)
    gap, sd = table["gap"].to_numpy(), table["gap_sd"].to_numpy()
    k = next((i + 1 for i in range(max(k_min, 1) - 1, k_max - 1) if gap[i] >= gap[i + 1] - sd[i + 1]), k_max)
    no_structure = k_min > 1 and gap[0] >= gap[1] - sd[1]
    margin = (gap[k - 1] - gap[k]) / max(sd[k], 1e-12) + 1 if k < k_max else np.nan
    others = table[table["k"] != k]
    runner = int(others.loc[others["gap"].idxmax(), "k"])
    sel = KSelection(table, None, {"gap": k}, k, method="gap", confidence=float(margin), runner_up=runner)
    sel.evidence = (f"k = {k} chosen by the gap statistic (the smallest k whose gap is within one standard error "
                    f"of the next); margin {margin:.1f} standard errors; runner-up k = {runner}.")
    if not margin >= 1:
        sel.evidence += " Weak evidence: look at the runner-up too."
    if no_structure:
        sel.evidence += (" Weak evidence: by the same rule the samples show no clear cluster structure at all "
                         "(k = 1); the clusters may only cut a continuum.")
    return sel
