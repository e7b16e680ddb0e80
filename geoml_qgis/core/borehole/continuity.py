"""Joint spatial continuity of clusters: transiogram-like curves from a kernel density of lags.

For clusters a <= b, ``p_ab(h)`` is the probability that two samples a lag h apart fall in
the pair {a, b}::

    p_ab(h) = sum_{pairs (i, j) in {a, b}} K(h - h_ij) / sum_{all pairs} K(h - h_ij)

with K a Gaussian kernel, so the curves are smooth and sum to 1 at every h. Downhole,
h is the along-hole distance between samples of the same hole; in 3D, the Euclidean
distance between any two samples. The kernel sums are computed on a fine lag grid
(a binned KDE, reflected at h = 0), so millions of pairs cost little memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

from ..errors import GeoMLError

N_BINS = 400
MAX_3D_POINTS = 3000


@dataclass
class ContinuityCurves:
    """lags (L,), probabilities (L, P) for pair names like ``"1-2"``, pair-count density (L,)."""

    kind: str
    lags: np.ndarray
    probabilities: np.ndarray
    pairs: list[str]
    density: np.ndarray
    bandwidth: float
    n_pairs: int

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.probabilities, columns=[f"p_{p}" for p in self.pairs])
        df.insert(0, "lag", self.lags)
        df.insert(0, "direction", self.kind)
        df["pair_density"] = self.density
        return df


def _pair_index(k: int) -> tuple[np.ndarray, list[str]]:
    index = np.full((k + 1, k + 1), -1, int)
    names = []
    for a in range(1, k + 1):
        for b in range(a, k + 1):
            index[a, b] = index[b, a] = len(names)
            names.append(f"{a}-{b}")
    return index, names


def _curves(kind, counts, max_lag, bandwidth, names, n_pairs) -> ContinuityCurves:
    width = max_lag / N_BINS
    sigma = max(bandwidth / width, 1.0)
    smooth = gaussian_filter1d(counts.astype(float), sigma, axis=1, mode="reflect")
    total = smooth.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.where(total > 1e-9 * max(total.max(), 1e-300), smooth / total, np.nan).T
    lags = (np.arange(N_BINS) + 0.5) * width
    step = max(N_BINS // 200, 1)
    return ContinuityCurves(kind, lags[::step], probs[::step], names, total[::step] / max(n_pairs, 1) / width,
                            float(bandwidth), int(n_pairs))


def _bandwidth(sum_h: float, sum_h2: float, n: int, floor: float) -> float:
    """Scott's rule from running sums of the lags, never below *floor*."""
    if n < 2:
        return floor
    sd = np.sqrt(max(sum_h2 / n - (sum_h / n) ** 2, 0.0))
    return max(1.06 * sd * n ** (-0.2), floor)


def downhole_continuity(labels: np.ndarray, holes: np.ndarray, depth: np.ndarray, max_lag: float | None = None) -> ContinuityCurves:
    """Curves over along-hole lag for samples of the same hole (labels 1..k)."""
    labels = np.asarray(labels, int)
    k = int(labels.max())
    index, names = _pair_index(k)
    groups = [np.flatnonzero(holes == h) for h in dict.fromkeys(holes)]
    groups = [g[np.argsort(depth[g], kind="stable")] for g in groups if len(g) >= 2]
    if not groups:
        raise GeoMLError("Downhole continuity needs holes with at least two samples.")
    steps = np.concatenate([np.diff(depth[g]) for g in groups])
    spacing = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
    if not max_lag:
        max_lag = 0.5 * float(np.median([np.ptp(depth[g]) for g in groups])) or spacing * 10
    counts = np.zeros((len(names), N_BINS))
    n_pairs, s1, s2 = 0, 0.0, 0.0
    for g in groups:
        d, lab = depth[g], labels[g]
        for off in range(1, len(g)):
            h = d[off:] - d[:-off]
            keep = h < max_lag
            if not keep.any():
                break
            h = h[keep]
            pair = index[lab[:-off][keep], lab[off:][keep]]
            b = np.minimum((h / max_lag * N_BINS).astype(int), N_BINS - 1)
            counts += np.bincount(pair * N_BINS + b, minlength=counts.size).reshape(counts.shape)
            n_pairs, s1, s2 = n_pairs + len(h), s1 + h.sum(), s2 + (h * h).sum()
    return _curves("downhole", counts, max_lag, _bandwidth(s1, s2, n_pairs, max(spacing, max_lag / 50)), names, n_pairs)


def spatial_continuity(labels: np.ndarray, xyz: np.ndarray, max_lag: float | None = None, seed: int = 0) -> ContinuityCurves:
    """Curves over 3D lag for all sample pairs (a random subset of 3,000 samples when there are more)."""
    labels = np.asarray(labels, int)
    k = int(labels.max())
    index, names = _pair_index(k)
    if len(labels) > MAX_3D_POINTS:
        pick = np.random.default_rng(seed).choice(len(labels), MAX_3D_POINTS, replace=False)
        labels, xyz = labels[pick], xyz[pick]
    if not max_lag:
        max_lag = float(np.linalg.norm(np.ptp(xyz, axis=0))) / 3.0
    if max_lag <= 0:
        raise GeoMLError("All samples are at the same position: no spatial continuity to compute.")
    pairs = cKDTree(xyz).query_pairs(max_lag, output_type="ndarray")
    if len(pairs) == 0:
        raise GeoMLError("No two samples are closer than the maximum lag; increase it.")
    h = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
    b = np.minimum((h / max_lag * N_BINS).astype(int), N_BINS - 1)
    pair = index[labels[pairs[:, 0]], labels[pairs[:, 1]]]
    counts = np.bincount(pair * N_BINS + b, minlength=len(names) * N_BINS).reshape(len(names), N_BINS)
    return _curves("3d", counts, max_lag, _bandwidth(h.sum(), (h * h).sum(), len(h), max_lag / 50), names, len(h))
