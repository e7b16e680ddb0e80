"""Choosing the number of clusters by a model: Gaussian mixtures compared by BIC, with a confidence.

For k = 1 .. k_max a Gaussian mixture with one covariance shared by all clusters ("tied") is
fitted to the samples' log-ratio coordinates; the Bayesian information criterion
``BIC = -2 log L + p log n`` ranks the k. A shared covariance suits assays: the analytical and
sampling noise is alike in every unit while the units differ by their means, and it keeps the
parameter count at one covariance, so small data sets can still support many clusters.

Coordinates: the clr transform has rows summing to zero (a singular covariance), so clr
features are rotated into ilr balances (D-1 columns, same distances); log and raw values are used
as they are. Cells below detection, which cleaning replaced by half the limit, form a spike at
one value that a mixture would take for a cluster of its own: for selection only, they are
replaced by seeded draws from a log-normal fitted to the element's upper half and truncated at the
detection limit (the cells are found as the element's minimum repeated in at least 1 % of samples).

Confidence: the BIC weights ``w_k ∝ exp(-BIC_k / 2)`` approximate the posterior probability of
each k. The chosen k's weight is reported with ``ΔBIC`` to the runner-up; following Kass and
Raftery (1995), ΔBIC < 2 is weak evidence, 2-6 positive, 6-10 strong, above 10 very strong.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from .compositional import balance_basis
from .kselect import MAX_SELECTION_SAMPLES, KSelection
from .transforms import apply_transform

EVIDENCE = ((2.0, "weak"), (6.0, "positive"), (10.0, "strong"), (np.inf, "very strong"))


def censored_cells(values: np.ndarray, min_share: float = 0.01) -> np.ndarray:
    """(n, m) bool: cells holding their element's minimum where it repeats in >= *min_share* of
    the samples (and at least 3 times): values cleaned from below-detection reports."""
    v = np.asarray(values, float)
    out = np.zeros(v.shape, bool)
    for j in range(v.shape[1]):
        col = v[:, j]
        at_min = col == col.min()
        if at_min.sum() >= max(3, min_share * len(col)) and not at_min.all():
            out[:, j] = at_min
    return out


def spread_censored(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """*values* with censored cells replaced by draws below the detection limit (module notes)."""
    v = np.asarray(values, float).copy()
    cells = censored_cells(v)
    rng = np.random.default_rng(seed)
    for j in np.flatnonzero(cells.any(axis=0)):
        logs = np.log(v[:, j])
        limit = np.log(2.0 * v[cells[:, j], j][0])  # cleaning wrote half the limit
        mu = np.median(logs)
        sd = (np.quantile(logs, 0.75) - mu) / norm.ppf(0.75)
        if not sd > 0:
            continue
        top = norm.cdf((limit - mu) / sd)
        u = rng.uniform(0.0, max(top, 1e-12), cells[:, j].sum())
        v[cells[:, j], j] = np.exp(mu + sd * norm.ppf(np.clip(u, 1e-12, None)))
    return v


def selection_coordinates(values: np.ndarray, transform: str, seed: int = 0) -> np.ndarray:
    """(n, m) cleaned values -> the coordinates the mixtures are fitted to (module notes)."""
    z = apply_transform(spread_censored(values, seed), transform)
    if transform == "clr":
        z = z @ balance_basis(z.shape[1])
    return (z - z.mean(axis=0)) / np.where(z.std(axis=0) > 0, z.std(axis=0), 1.0)


def evidence_word(delta_bic: float) -> str:
    """Kass and Raftery's wording for a BIC difference."""
    return next(word for limit, word in EVIDENCE if delta_bic < limit)


def select_k_bic(values: np.ndarray, transform: str = "clr", k_max: int = 10, seed: int = 0, n_init: int = 2,
                 progress: ProgressCallback | None = None) -> KSelection:
    """BIC of tied Gaussian mixtures for k = 1 .. k_max on cleaned (n, m) *values*.

    The returned table has columns k, bic, delta_bic, weight; ``votes`` is ``{"bic": k}``;
    ``confidence`` the chosen k's BIC weight; ``runner_up`` and ``delta_bic`` the next best k
    and its BIC excess; ``evidence`` a sentence for the report.
    """
    from sklearn.mixture import GaussianMixture

    X = selection_coordinates(values, transform, seed)
    if len(X) > MAX_SELECTION_SAMPLES:
        X = X[np.random.default_rng(seed).choice(len(X), MAX_SELECTION_SAMPLES, replace=False)]
    n, m = X.shape
    k_max = int(min(k_max, n - 1))
    if k_max < 2:
        raise GeoMLError(f"Only {n} sample(s): at least 3 are needed to choose a number of clusters.")
    rows = []
    for k in range(1, k_max + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings: the BIC of the best run is used anyway
            gm = GaussianMixture(k, covariance_type="tied", n_init=n_init, random_state=seed, reg_covar=1e-6,
                                 max_iter=200).fit(X)
        rows.append({"k": k, "bic": float(gm.bic(X))})
        report(progress, k / k_max)
    table = pd.DataFrame(rows)
    table["delta_bic"] = table["bic"] - table["bic"].min()
    w = np.exp(-0.5 * table["delta_bic"].to_numpy())
    table["weight"] = w / w.sum()
    order = table.sort_values("bic")["k"].to_numpy()
    k, runner = int(order[0]), int(order[1])
    delta = float(table.loc[table["k"] == runner, "delta_bic"].iloc[0])
    sel = KSelection(table, None, {"bic": k}, k)
    sel.method = "bic"
    sel.confidence = float(table.loc[table["k"] == k, "weight"].iloc[0])
    sel.runner_up, sel.delta_bic = runner, delta
    word = evidence_word(delta)
    sel.evidence = (f"k = {k} chosen by BIC (tied Gaussian mixtures); the runner-up k = {runner} is "
                    f"{delta:.1f} BIC units worse ({word} evidence; weight of k = {k}: {sel.confidence:.2f}).")
    if word == "weak":
        sel.evidence += f" The data do not clearly tell {k} from {runner} clusters: look at both."
    return sel
