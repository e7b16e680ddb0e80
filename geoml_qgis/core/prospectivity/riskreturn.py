"""Risk-return analysis of a prospectivity map: expected value, risk-adjusted return, categories, targets.

For exploration cost C per target and discovery value V, a cell with deposit probability p and total
uncertainty u (probability units) has

- expected value ``EV = p V - C``
- a lower confidence bound ``p_lo = max(p - z u, 0)`` and upper bound ``p_hi = min(p + z u, 1)``, z the
  standard normal quantile of CONFIDENCE (0.9 -> 1.2816)
- risk-adjusted return ``RA = p_lo V - C``

Categories (after Nagasingha et al. 2025, high/low return x high/low risk): return is high when EV > 0;
risk is high when the confidence interval of the return straddles zero (a high-return cell that may
lose money: ``p_lo V - C <= 0``; a low-return cell that may pay: ``p_hi V - C > 0``).
1 = high return, low risk; 2 = high return, high risk; 3 = low return, high risk; 4 = low return, low risk.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import GeoMLError
from ..io import BlockWriter, Grid, RasterStack, RasterStyle, Window, provenance
from ..io.blocks import bounded_gdal_cache
from ..progress import ProgressCallback, report

CATEGORIES = {1: "high return, low risk", 2: "high return, high risk", 3: "low return, high risk",
              4: "low return, low risk"}


def z_of(confidence: float) -> float:
    """One-sided standard normal quantile of *confidence* (0.5 < confidence < 1)."""
    from scipy.stats import norm

    if not 0.5 <= confidence < 1:
        raise GeoMLError("The confidence level must be between 0.5 and 1 (e.g. 0.9).")
    return float(norm.ppf(confidence))


def returns(p: np.ndarray, u: np.ndarray, cost: float, value: float, confidence: float) -> dict[str, np.ndarray]:
    """``expected``, ``risk_adjusted`` returns and ``category`` (uint8, 0 where p or u is NaN) per cell."""
    if value <= 0 or cost < 0:
        raise GeoMLError("The discovery value must be positive and the cost per target not negative.")
    z = z_of(confidence)
    ev = p * value - cost
    lo = np.clip(p - z * u, 0, 1) * value - cost
    hi = np.clip(p + z * u, 0, 1) * value - cost
    cat = np.where(ev > 0, np.where(lo > 0, 1, 2), np.where(hi > 0, 3, 4)).astype(np.uint8)
    cat[~(np.isfinite(p) & np.isfinite(u))] = 0
    return {"expected": ev, "risk_adjusted": lo, "category": cat}


@dataclass
class Candidate:
    x: float
    y: float
    score: float
    values: tuple


def local_maxima(grid: Grid, read: Callable[[Window], tuple[np.ndarray, tuple]], keep: int,
                 progress: ProgressCallback | None = None, block_size: int = 512) -> list[Candidate]:
    """Cells whose score is the largest of their 3 x 3 neighbourhood, the *keep* best, block by block.

    ``read(window)`` returns ``(score (h, w) with NaN for no data, extra arrays (h, w) to carry)``;
    windows are read with a one-cell halo so maxima on block edges are judged like any other.
    """
    from scipy.ndimage import maximum_filter

    found: list[Candidate] = []
    windows = list(grid.windows(block_size))
    x0, dx, _, y0, _, dy = grid.transform
    for i, w in enumerate(windows):
        c0, r0 = max(w.col_off - 1, 0), max(w.row_off - 1, 0)
        c1, r1 = min(w.col_off + w.width + 1, grid.width), min(w.row_off + w.height + 1, grid.height)
        score, extra = read(Window(c0, r0, c1 - c0, r1 - r0))
        s = np.where(np.isfinite(score), score, -np.inf)
        peak = (s == maximum_filter(s, size=3, mode="nearest")) & np.isfinite(score)
        inner = np.zeros_like(peak)
        inner[w.row_off - r0:w.row_off - r0 + w.height, w.col_off - c0:w.col_off - c0 + w.width] = True
        rr, cc = np.nonzero(peak & inner)
        order = np.argsort(-score[rr, cc], kind="stable")[:keep]
        for r, c in zip(rr[order], cc[order]):
            found.append(Candidate(x0 + (c0 + c + 0.5) * dx, y0 + (r0 + r + 0.5) * dy, float(score[r, c]),
                                   tuple(float(e[r, c]) for e in extra)))
        found = sorted(found, key=lambda k: -k.score)[:keep]
        report(progress, (i + 1) / len(windows))
    return found


def pick_spaced(cands: list[Candidate], n: int, min_spacing: float) -> list[Candidate]:
    """Greedy: best first, skipping any candidate closer than *min_spacing* to one already picked."""
    picked: list[Candidate] = []
    for c in sorted(cands, key=lambda k: -k.score):
        if all((c.x - p.x) ** 2 + (c.y - p.y) ** 2 >= min_spacing ** 2 for p in picked):
            picked.append(c)
            if len(picked) == n:
                break
    return picked


def rank_targets(probability: str | os.PathLike, uncertainty: str | os.PathLike, cost: float, value: float,
                 confidence: float, n_targets: int, min_spacing: float, categories_path: str | os.PathLike,
                 parameters: dict | None = None, progress: ProgressCallback | None = None,
                 block_size: int = 512, algorithm: str = "geoml_qgis.core.prospectivity.rank_targets",
                 ) -> tuple[list[Candidate], dict[int, float]]:
    """Write the category raster and return the ranked targets and each category's share of the area.

    Targets are local maxima of the risk-adjusted return, at least *min_spacing* apart, best first;
    ``Candidate.values`` = (probability, uncertainty, expected return).
    """
    z_of(confidence)
    with RasterStack([probability, uncertainty], resampling="nearest") as st:
        if st.count != 2:
            raise GeoMLError("Give single-band probability and uncertainty rasters.")

        def read(win):
            b = st.read(win)
            p, u = (np.where(np.ma.getmaskarray(b[k]), np.nan, b.data[k]).astype(np.float64) for k in (0, 1))
            r = returns(p, u, cost, value, confidence)
            return r["risk_adjusted"], (p, u, r["expected"])

        counts = np.zeros(5)
        meta = provenance(algorithm, parameters)
        report(progress, 0.0)
        with BlockWriter(categories_path, st.grid, 1, "uint8", nodata=0, band_names=["risk_return_category"],
                         metadata=meta, style=RasterStyle("categorical", classes=CATEGORIES)) as w, bounded_gdal_cache():
            for win in st.grid.windows(block_size):
                ra, (p, u, ev) = read(win)
                cat = returns(p, u, cost, value, confidence)["category"]
                counts += np.bincount(cat.ravel(), minlength=5)
                w.write(win, cat)
        report(progress, 0.5)
        cands = local_maxima(st.grid, read, max(20 * n_targets, 100), None, block_size)
    report(progress, 1.0)
    total = counts[1:].sum()
    shares = {k: float(counts[k] / total) if total else 0.0 for k in CATEGORIES}
    return pick_spaced(cands, n_targets, min_spacing), shares
