"""Indicator kriging: local conditional distributions from indicators at cut-offs.

At cut-offs ``z_1 < ... < z_K`` each sample gives indicators ``i_k = 1 if z <= z_k else 0``; ordinary
kriging of each indicator estimates ``F_k = P(Z <= z_k | data)`` at a target (gstat:
``krige(I(z <= z_k) ~ 1, ...)``). Each cut-off has its own indicator variogram, or all use one
(median indicator kriging: one model, the same weights for every cut-off).

Every cut-off uses the same neighbour sets: targets are grouped by set once
(:meth:`~.kriging.OrdinaryKriging.grouped`), then each distinct variogram solves its systems once
for all the cut-offs that use it (one solve for every cut-off with a median-indicator model).

Kriged indicators need not form a distribution; the order-relation correction (as in GSLIB's ik3d)
clips them to [0, 1], then averages an upward pass (``F_k >= F_{k-1}``) and a downward pass
(``F_k <= F_{k+1}``).

From the corrected distribution: ``P(Z > z_k) = 1 - F_k`` per cut-off, the E-type estimate
``sum_c p_c m_c`` and the conditional variance ``sum_c p_c s_c - E^2``, where class ``c`` lies
between consecutive cut-offs (the first from the smallest datum, the last to the largest),
``p_c`` is its probability and ``m_c``, ``s_c`` are the mean and mean square of the data in it
(the class midpoint where a class holds no datum).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import GeoMLError
from ..progress import ProgressCallback, report, scaled
from .crossval import CrossValidation, _summarise, _table, add_probability_scores, leave_one_out
from .kriging import OrdinaryKriging
from .variogram import experimental_variogram, fit_variogram


def decile_cutoffs(values: np.ndarray) -> np.ndarray:
    """The nine deciles of *values*, without repeats."""
    return np.unique(np.quantile(np.asarray(values, float), np.linspace(0.1, 0.9, 9)))


def check_cutoffs(values: np.ndarray, cutoffs: Sequence[float]) -> np.ndarray:
    """Sorted, unique cut-offs, each leaving data on both sides; otherwise a GeoMLError that says why."""
    c = np.unique(np.asarray(cutoffs, dtype=np.float64))
    if c.size == 0 or not np.isfinite(c).all():
        raise GeoMLError("Give at least one finite cut-off (or use the deciles).")
    lo, hi = float(np.min(values)), float(np.max(values))
    for v in c:
        if v < lo or v >= hi:
            raise GeoMLError(
                f"The cut-off {v:g} is outside the data range ({lo:g} to {hi:g}): every sample is on one side, "
                "so its indicator is constant and there is nothing to krige. Use cut-offs inside the range.")
    return c


def indicators(values: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """Indicators ``(n, K)``: 1 where ``value <= cutoff``."""
    return (np.asarray(values, float)[:, None] <= np.asarray(cutoffs, float)[None, :]).astype(np.float64)


def order_relations(cdf: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-relation correction of kriged cdf values ``(m, K)``; returns the corrected cdf and the
    number of targets that needed a correction."""
    raw = np.asarray(cdf, dtype=np.float64)
    f = np.clip(raw, 0.0, 1.0)
    up = np.maximum.accumulate(f, axis=1)
    down = np.minimum.accumulate(f[:, ::-1], axis=1)[:, ::-1]
    out = 0.5 * (up + down)
    bad = np.isfinite(raw).all(axis=1) & (np.abs(out - raw) > 1e-12).any(axis=1)
    return out, int(bad.sum())


@dataclass
class IndicatorResult:
    """Indicator kriging at ``m`` targets for ``K`` cut-offs.

    ``raw`` and ``cdf`` are ``(m, K)`` (before and after the order-relation correction),
    ``exceedance = 1 - cdf``; ``etype`` and ``conditional_variance`` are ``(m,)``;
    ``n_corrected`` counts targets whose kriged values broke the order relations.
    """

    cutoffs: np.ndarray
    raw: np.ndarray
    cdf: np.ndarray
    etype: np.ndarray
    conditional_variance: np.ndarray
    n_corrected: int

    @property
    def exceedance(self) -> np.ndarray:
        return 1.0 - self.cdf


class IndicatorKriging:
    """Ordinary indicator kriging with order-relation corrections, E-type and conditional variance.

    Parameters
    ----------
    cutoffs : sequence of float, or None
        Cut-offs (sorted here); None: the data deciles.
    models : VariogramModel/NestedModel, or a sequence of them (one per cut-off), or None
        One model for every cut-off (median indicator kriging) or one each; None fits them at
        :meth:`fit` (``median=True``: one model fitted to the indicator of the median).
    neighbours, search_radius
        As :class:`~.kriging.OrdinaryKriging`.
    median : bool
        With ``models=None``: fit one median-indicator model instead of one per cut-off.
    """

    def __init__(self, cutoffs=None, models=None, neighbours: int = 32, search_radius: float | None = None,
                 median: bool = False, variogram_kind: str = "spherical"):
        self.cutoffs = cutoffs
        self.models = models
        self.neighbours = int(neighbours)
        self.search_radius = search_radius
        self.median = median
        self.variogram_kind = variogram_kind

    def fit(self, coords: np.ndarray, values: np.ndarray) -> "IndicatorKriging":
        """Indicators of ``values (n,)`` at ``coords (n, d)``; fit indicator variograms when none were given."""
        coords = np.asarray(coords, dtype=np.float64)
        z = np.asarray(values, dtype=np.float64)
        if not np.isfinite(z).all():
            raise GeoMLError("Sample values must be finite (skip NULL values first).")
        self.cutoffs_ = check_cutoffs(z, decile_cutoffs(z) if self.cutoffs is None else self.cutoffs)
        ind = indicators(z, self.cutoffs_)
        K = len(self.cutoffs_)
        if self.models is None:
            self.models_ = self._fit_models(coords, z, ind)
        elif hasattr(self.models, "gamma"):
            self.models_ = [self.models] * K
        else:
            self.models_ = list(self.models)
            if len(self.models_) != K:
                raise GeoMLError(f"Give one indicator variogram per cut-off ({K}), or one for all.")
        self.krigers_ = [OrdinaryKriging(m, self.neighbours, self.search_radius).fit(coords, ind[:, k])
                         for k, m in enumerate(self.models_)]
        self.coords_, self.values_, self.indicators_ = coords, z, ind
        self._class_moments()
        return self

    def _fit_models(self, coords, z, ind) -> list:
        if self.median:
            med = np.median(z)
            model, _ = fit_variogram(experimental_variogram(coords, (z <= med).astype(float)), self.variogram_kind)
            return [model] * ind.shape[1]
        return [fit_variogram(experimental_variogram(coords, ind[:, k]), self.variogram_kind)[0]
                for k in range(ind.shape[1])]

    def _class_moments(self) -> None:
        edges = np.concatenate([[self.values_.min()], self.cutoffs_, [self.values_.max()]])
        cls = np.searchsorted(self.cutoffs_, self.values_, side="left")  # class c: edges[c] < z <= edges[c+1]
        K1 = len(self.cutoffs_) + 1
        n = np.bincount(cls, minlength=K1).astype(float)
        s1 = np.bincount(cls, weights=self.values_, minlength=K1)
        s2 = np.bincount(cls, weights=self.values_ ** 2, minlength=K1)
        mid = 0.5 * (edges[:-1] + edges[1:])
        with np.errstate(invalid="ignore", divide="ignore"):
            self.class_mean_ = np.where(n > 0, s1 / n, mid)
            self.class_square_ = np.where(n > 0, s2 / n, mid ** 2)

    def summarise(self, raw: np.ndarray) -> IndicatorResult:
        """Corrected cdf, E-type and conditional variance from kriged indicators ``raw (m, K)``."""
        cdf, n_bad = order_relations(raw)
        ok = np.isfinite(raw).all(axis=1)
        cdf[~ok] = np.nan
        full = np.hstack([np.zeros((len(cdf), 1)), cdf, np.ones((len(cdf), 1))])
        p = np.diff(full, axis=1)
        etype = p @ self.class_mean_
        cvar = np.maximum(p @ self.class_square_ - etype ** 2, 0.0)
        return IndicatorResult(self.cutoffs_, raw, cdf, etype, cvar, n_bad)

    def predict(self, targets: np.ndarray, progress: ProgressCallback | None = None,
                workers: int = -1) -> IndicatorResult:
        """Conditional distributions at ``targets (m, d)`` (*workers*: threads of the neighbour search)."""
        return self.summarise(self._krige(targets, progress, workers)[0])

    def predict_variances(self, targets: np.ndarray, workers: int = -1) -> np.ndarray:
        """Kriging variances ``(m, K)`` of the raw indicator estimates (as gstat's ``var1.var``)."""
        return self._krige(targets, None, workers)[1]

    def _shared_sets(self) -> list[list[int]] | None:
        """Cut-offs grouped by variogram model when every cut-off can share neighbour sets (same
        anisotropy, moving neighbourhood without a radius); None otherwise."""
        first = self.krigers_[0]
        if not first.fast_path or any((m.ratio, m.angle) != (first.model.ratio, first.model.angle)
                                      for m in self.models_):
            return None
        groups: list[list[int]] = []
        for k, m in enumerate(self.models_):
            same = next((g for g in groups if self.models_[g[0]] == m), None)
            if same is None:
                groups.append([k])
            else:
                same.append(k)
        return groups

    def _krige(self, targets: np.ndarray, progress: ProgressCallback | None, workers: int,
               chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        """Raw kriged indicators and their kriging variances, each ``(m, K)``."""
        t = np.asarray(targets, dtype=np.float64)
        K = len(self.cutoffs_)
        raw, var = np.empty((len(t), K)), np.empty((len(t), K))
        groups = self._shared_sets()
        if groups is None:
            for k, ok in enumerate(self.krigers_):
                r = ok.predict(t, progress=scaled(progress, k / K, (k + 1) / K), workers=workers)
                raw[:, k], var[:, k] = r.estimate, r.variance
            return raw, var
        first = self.krigers_[0]
        report(progress, 0.0)
        for s in range(0, len(t), chunk):
            sets = first.grouped(first.model.transform(t[s:s + chunk], first.centre_[:2]), workers)
            for cols in groups:
                est, v, _ = self.krigers_[cols[0]].krige_groups(sets, self.indicators_[:, cols])
                raw[s:s + chunk, cols] = est
                var[s:s + chunk, cols] = v[:, None]
            report(progress, min(1.0, (s + chunk) / max(len(t), 1)))
        return raw, var


def leave_one_out_indicator(
    estimator: IndicatorKriging, coords: np.ndarray, values: np.ndarray, progress: ProgressCallback | None = None,
) -> CrossValidation:
    """Leave-one-out cross-validation of indicator kriging.

    The table holds the E-type estimate and conditional variance of every left-out sample (error =
    E-type - observed) and, per cut-off ``k``, ``p_exceed_k`` (the corrected P(Z > z_k)). The summary
    adds ``Brier``, the mean squared difference between those probabilities and the observed
    exceedances over all cut-offs (0 is perfect; predicting the global proportions scores
    ``Brier_reference``), besides ME, MAE, RMSE and MSDR of the E-type.
    """
    est = IndicatorKriging(estimator.cutoffs, estimator.models, estimator.neighbours, estimator.search_radius,
                           estimator.median, estimator.variogram_kind).fit(coords, values)
    coords = np.asarray(coords, float)
    values = np.asarray(values, float)
    ind = indicators(values, est.cutoffs_)
    K = len(est.cutoffs_)
    raw = np.column_stack([
        leave_one_out(coords, ind[:, k], m, estimator.neighbours, estimator.search_radius,
                      progress=scaled(progress, k / K, (k + 1) / K)).table["estimate"].to_numpy()
        for k, m in enumerate(est.models_)])
    res = est.summarise(raw)
    extra = {f"p_exceed_{k + 1}": res.exceedance[:, k] for k in range(K)}
    cv = CrossValidation(_table(coords, values, res.etype, res.conditional_variance, extra), "leave-one-out")
    cv.summary = _summarise(cv.table)
    add_probability_scores(cv, res.exceedance, 1.0 - ind)
    cv.summary["n_order_corrections"] = res.n_corrected
    return cv
