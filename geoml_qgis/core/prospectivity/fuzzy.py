"""Fuzzy logic prospectivity: membership functions, fuzzy overlay, block by block on rasters.

Memberships map evidence values to ``[0, 1]`` (the same definitions as QGIS's
``native:fuzzifyraster*`` algorithms, so results agree with them; *low*/*high* may be given in either
order for a decreasing set)::

    linear      t = clip((x − low) / (high − low), 0, 1)
    power       t ** exponent
    small       1 / (1 + (x / midpoint) ** spread)          (small values are members)
    large       1 / (1 + (x / midpoint) ** −spread)         (large values are members)
    gaussian    exp(−spread · (x − midpoint)²)
    near        1 / (1 + spread · (x − midpoint)²)
    categorical a membership per class value (classes not listed: 0)

Overlays of memberships μ₁..μₙ of a cell: AND = min, OR = max, product = Π μ, sum = 1 − Π (1 − μ),
gamma = sum^γ · product^(1 − γ). A cell where any layer has no data has no data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io import BlockWriter, RasterStack, RasterStyle, provenance
from ..io.blocks import bounded_gdal_cache
from ..progress import ProgressCallback, report

FUNCTIONS = ("linear", "power", "small", "large", "gaussian", "near", "categorical")
OPERATORS = ("gamma", "and", "or", "product", "sum")


@dataclass
class Membership:
    """One membership function and its parameters (see the module docstring)."""

    function: str
    low: float = 0.0
    high: float = 1.0
    midpoint: float = 0.0
    spread: float = 1.0
    exponent: float = 2.0
    classes: dict[float, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.function not in FUNCTIONS:
            raise GeoMLError(f"Unknown membership function '{self.function}'; use one of {', '.join(FUNCTIONS)}.")
        if self.function in ("linear", "power") and self.low == self.high:
            raise GeoMLError("The low and high bounds of a linear or power membership must differ.")
        if self.function in ("small", "large") and (self.midpoint == 0 or self.spread <= 0):
            raise GeoMLError("Small and large memberships need a non-zero midpoint and a positive spread.")
        if self.function in ("gaussian", "near") and self.spread <= 0:
            raise GeoMLError("Gaussian and near memberships need a positive spread.")
        if self.function == "power" and self.exponent <= 0:
            raise GeoMLError("The exponent of a power membership must be positive.")
        if self.function == "categorical":
            if not self.classes:
                raise GeoMLError("A categorical membership needs a class -> membership table, e.g. '1:0.9, 2:0.3'.")
            bad = [m for m in self.classes.values() if not 0 <= m <= 1]
            if bad:
                raise GeoMLError(f"Memberships must lie between 0 and 1; got {bad[0]}.")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Membership of values *x* (any shape, float64); NaN stays NaN."""
        x = np.asarray(x, np.float64)
        f = self.function
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if f in ("linear", "power"):
                t = np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
                m = t if f == "linear" else t ** self.exponent
            elif f == "small":
                m = 1.0 / (1.0 + (x / self.midpoint) ** self.spread)
            elif f == "large":
                m = 1.0 / (1.0 + (x / self.midpoint) ** (-self.spread))
            elif f == "gaussian":
                m = np.exp(-self.spread * (x - self.midpoint) ** 2)
            elif f == "near":
                m = 1.0 / (1.0 + self.spread * (x - self.midpoint) ** 2)
            else:
                m = np.zeros_like(x)
                for value, mu in self.classes.items():
                    m[x == value] = mu
        return np.where(np.isnan(x), np.nan, m)


def overlay(mu: np.ndarray, operator: str, gamma: float = 0.9) -> np.ndarray:
    """Combine memberships ``(n_layers, ...)`` into one ``(...)`` array; NaN where any layer is NaN."""
    mu = np.asarray(mu, np.float64)
    if operator not in OPERATORS:
        raise GeoMLError(f"Unknown fuzzy operator '{operator}'; use one of {', '.join(OPERATORS)}.")
    if operator == "gamma" and not 0 <= gamma <= 1:
        raise GeoMLError("Gamma must lie between 0 and 1.")
    if operator == "and":
        out = mu.min(axis=0)
    elif operator == "or":
        out = mu.max(axis=0)
    elif operator == "product":
        out = mu.prod(axis=0)
    elif operator == "sum":
        out = 1.0 - (1.0 - mu).prod(axis=0)
    else:
        out = (1.0 - (1.0 - mu).prod(axis=0)) ** gamma * mu.prod(axis=0) ** (1.0 - gamma)
    return np.where(np.isnan(mu).any(axis=0), np.nan, out)


def parse_classes(text: str) -> dict[float, float]:
    """``"1: 0.9, 2: 0.3"`` -> ``{1.0: 0.9, 2.0: 0.3}``."""
    out = {}
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        k, sep, v = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out[float(k)] = float(v)
        except ValueError:
            raise GeoMLError(f"Cannot read '{part.strip()}' of the class table; write 'class: membership', "
                             "e.g. '1: 0.9, 2: 0.3'.") from None
    return out


def _style() -> RasterStyle:
    return RasterStyle("continuous", ramp="magma", vmin=0.0, vmax=1.0)


def fuzzy_rasters(inputs: Sequence[str | os.PathLike], memberships: Sequence[Membership],
                  membership_path: str | os.PathLike | None = None, overlay_path: str | os.PathLike | None = None,
                  operator: str = "gamma", gamma: float = 0.9, reference=None, parameters: Mapping | None = None,
                  progress: ProgressCallback | None = None,
                  algorithm: str = "geoml_qgis.core.prospectivity.fuzzy_rasters") -> list[str]:
    """Memberships of every band of *inputs* (one :class:`Membership` per band) and/or their overlay.

    Reads the inputs block by block on one grid (the first raster's, or *reference*; categorical
    memberships are read with nearest neighbour, others bilinearly) and writes a multi-band
    membership raster and/or a one-band overlay raster, both 0-1 and styled. Returns the band names.
    """
    if not inputs:
        raise GeoMLError("Give at least one evidence raster.")
    if membership_path is None and overlay_path is None:
        raise GeoMLError("Choose a membership output, an overlay output, or both.")
    overlay(np.zeros((1, 1)), operator, gamma)  # checks the operator before any work
    with RasterStack([inputs[0]]) as first:
        counts = [first.count]
    for p in inputs[1:]:
        with RasterStack([p]) as r:
            counts.append(r.count)
    methods = []
    k = 0
    for n in counts:
        methods.append("nearest" if any(m.function == "categorical" for m in memberships[k:k + n]) else "bilinear")
        k += n
    meta = provenance(algorithm, parameters)
    with RasterStack(list(inputs), reference, methods) as stack:
        if len(memberships) != stack.count:
            raise GeoMLError(f"Give one membership per evidence band ({stack.count}: {', '.join(stack.band_names)}); "
                             f"got {len(memberships)}.")
        names = [f"mu_{n}" for n in stack.band_names]
        grid = stack.grid
        windows = list(stack.windows())
        with (BlockWriter(membership_path, grid, len(names), "float32", band_names=names, metadata=meta,
                          style=_style()) if membership_path else _Null()) as wm, \
                (BlockWriter(overlay_path, grid, 1, "float32", band_names=[f"fuzzy {operator}"], metadata=meta,
                             style=_style()) if overlay_path else _Null()) as wo, bounded_gdal_cache():
            report(progress, 0.0)
            for i, win in enumerate(windows):
                b = stack.read(win)
                x = np.where(np.ma.getmaskarray(b), np.nan, b.data).astype(np.float64)
                mu = np.stack([m(x[j]) for j, m in enumerate(memberships)])
                if membership_path:
                    wm.write(win, mu)
                if overlay_path:
                    wo.write(win, overlay(mu, operator, gamma))
                report(progress, (i + 1) / len(windows))
    return names


def overlay_rasters(inputs: Sequence[str | os.PathLike], output: str | os.PathLike, operator: str = "gamma",
                    gamma: float = 0.9, reference=None, parameters: Mapping | None = None,
                    progress: ProgressCallback | None = None,
                    algorithm: str = "geoml_qgis.core.prospectivity.overlay_rasters") -> None:
    """Fuzzy overlay of membership rasters (every band of *inputs*, values 0-1) into one styled raster."""
    if not inputs:
        raise GeoMLError("Give at least one membership raster.")
    overlay(np.zeros((1, 1)), operator, gamma)
    meta = provenance(algorithm, parameters)
    with RasterStack(list(inputs), reference, "bilinear") as stack:
        windows = list(stack.windows())
        with BlockWriter(output, stack.grid, 1, "float32", band_names=[f"fuzzy {operator}"], metadata=meta,
                         style=_style()) as w, bounded_gdal_cache():
            report(progress, 0.0)
            for i, win in enumerate(windows):
                b = stack.read(win)
                mu = np.where(np.ma.getmaskarray(b), np.nan, b.data).astype(np.float64)
                bad = (mu < -1e-6) | (mu > 1 + 1e-6)
                if bad.any():
                    j = int(np.argwhere(bad)[0][0])
                    raise GeoMLError(f"'{stack.band_names[j]}' holds values outside 0-1 ({mu[bad][0]:g}); it is not a "
                                     "fuzzy membership. Fuzzify it first (Fuzzy membership).")
                w.write(win, overlay(np.clip(mu, 0, 1), operator, gamma))
                report(progress, (i + 1) / len(windows))


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def memberships_from_training(X_dep: np.ndarray, X_area: np.ndarray) -> list[tuple[Membership, float]]:
    """Memberships set from the data, one ``(membership, strength)`` per feature.

    The membership is linear between the area's 5th and 95th percentiles, rising towards the side where
    the deposits' median lies; *strength* = |2·AUC − 1| of the feature alone (deposits vs area), so
    the score used is ``0.5 + strength·(μ − 0.5)``: a feature that does not separate deposits from the
    area stays near 0.5 and barely moves the overlay.
    """
    from sklearn.metrics import roc_auc_score

    out = []
    y = np.r_[np.ones(len(X_dep)), np.zeros(len(X_area))]
    for j in range(X_dep.shape[1]):
        a = X_area[:, j][np.isfinite(X_area[:, j])]
        lo, hi = np.quantile(a, [0.05, 0.95])
        if hi <= lo:
            lo, hi = float(a.min()), float(a.max()) if a.max() > a.min() else float(a.min()) + 1.0
        x = np.r_[X_dep[:, j], X_area[:, j]]
        ok = np.isfinite(x)
        auc = roc_auc_score(y[ok], x[ok]) if len(np.unique(y[ok])) == 2 else 0.5
        up = auc >= 0.5
        out.append((Membership("linear", low=float(lo if up else hi), high=float(hi if up else lo)), abs(2 * auc - 1)))
    return out


class FuzzyClassifier:
    """Fuzzy overlay with memberships set from training data, as an estimator for cross-validation.

    ``fit(X, y)``: memberships from :func:`memberships_from_training` with the deposits (``y == 1``) and
    the area (*background* rows when given, else the ``y == 0`` rows); ``predict_proba(X)``: the overlay
    ``(n,)`` (a score in 0-1, not a calibrated probability).
    """

    def __init__(self, operator: str = "gamma", gamma: float = 0.9, background: np.ndarray | None = None):
        self.operator, self.gamma, self.background = operator, gamma, background

    def fit(self, X: np.ndarray, y: np.ndarray) -> "FuzzyClassifier":
        X, y = np.asarray(X, float), np.asarray(y)
        area = X[y == 0] if self.background is None else np.asarray(self.background, float)
        self.memberships_ = memberships_from_training(X[y == 1], area)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, float)
        mu = np.stack([0.5 + s * (m(X[:, j]) - 0.5) for j, (m, s) in enumerate(self.memberships_)])
        return overlay(mu, self.operator, self.gamma)
