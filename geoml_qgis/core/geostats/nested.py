"""Nested variogram models (nugget + one or two structures) and their weighted least-squares fit.

A :class:`NestedModel` is ``nugget + sum_k psill_k * g_k(h / range_k)`` where each ``g_k`` is a
unit spherical, exponential, gaussian or stable structure with GeoML's practical-range convention
(see :mod:`.models`). It shares one geometric anisotropy (``ratio``, ``angle``) between its
structures, so it plugs into every estimator that takes a :class:`~.models.VariogramModel`
(``gamma``, ``covariance``, ``transform``, ``sill``, ``nugget``, ``range``).

:func:`fit_nested` fits nugget, partial sills and ranges to an experimental variogram by weighted
least squares with gstat's default weights ``N_j / h_j^2`` (``fit.variogram(fit.method = 7)``),
starting from given values as gstat does, and reports gstat's error measure ``SSErr``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..errors import GeoMLError
from .models import MODELS, VariogramModel
from .variogram import ExperimentalVariogram

MAX_STRUCTURES = 2
FORMAT = "geoml-nested-variogram"


@dataclass(frozen=True)
class Structure:
    """One nested structure: ``kind``, partial sill ``psill`` (>= 0), practical ``range`` (> 0)."""

    kind: str
    psill: float
    range: float
    shape: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise GeoMLError(f"Unknown variogram structure '{self.kind}'; use one of {', '.join(MODELS)}.")
        if not (math.isfinite(self.psill) and self.psill >= 0):
            raise GeoMLError("A structure's partial sill must be a finite number >= 0.")
        if not (math.isfinite(self.range) and self.range > 0):
            raise GeoMLError("A structure's range must be a positive distance.")

    def unit(self, h: np.ndarray) -> np.ndarray:
        """The structure with partial sill 1 at distances *h* (a new array)."""
        return VariogramModel(self.kind, 0.0, 1.0, self.range, self.shape).gamma(h)


@dataclass(frozen=True)
class NestedModel:
    """Nugget plus 1 or 2 structures, with one geometric anisotropy (2D) for all of them.

    Attributes ``sill`` (total), ``psill`` (sum of partial sills), ``range`` (the longest range)
    and ``kind`` (``"nested"``) mirror :class:`~.models.VariogramModel`.
    """

    nugget: float
    structures: tuple[Structure, ...]
    ratio: float = 1.0
    angle: float = 0.0

    kind = "nested"

    def __post_init__(self) -> None:
        object.__setattr__(self, "structures", tuple(self.structures))
        if not 1 <= len(self.structures) <= MAX_STRUCTURES:
            raise GeoMLError(f"A nested model has 1 to {MAX_STRUCTURES} structures besides the nugget.")
        if not (math.isfinite(self.nugget) and self.nugget >= 0):
            raise GeoMLError("The nugget must be a finite number >= 0.")
        if not self.sill > 0:
            raise GeoMLError("The total sill must be positive (all values equal? then there is nothing to krige).")
        if not 0 < self.ratio <= 1:
            raise GeoMLError("The anisotropy ratio (minor range / major range) must be in (0, 1].")

    @property
    def psill(self) -> float:
        return float(sum(s.psill for s in self.structures))

    @property
    def sill(self) -> float:
        return self.nugget + self.psill

    @property
    def range(self) -> float:
        return max(s.range for s in self.structures)

    def gamma(self, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Semivariance at distances *h* (nugget included for every h, as in :class:`VariogramModel`)."""
        h = np.asarray(h, dtype=np.float64)
        total = np.full(h.shape, self.nugget)
        for s in self.structures:
            total += s.psill * s.unit(h)
        if out is None:
            return total
        out[...] = total
        return out

    def covariance(self, h: np.ndarray) -> np.ndarray:
        """``sill - gamma(h)`` for ``h > 0`` and ``sill`` at ``h == 0``."""
        h = np.asarray(h, dtype=np.float64)
        return np.where(h > 0, self.sill - self.gamma(h), self.sill)

    def transform(self, coords: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
        """Coordinates in the isotropic frame (as :meth:`VariogramModel.transform`)."""
        return VariogramModel.transform(self, coords, centre)

    def with_params(self, **changes) -> "NestedModel":
        d = {"nugget": self.nugget, "structures": self.structures, "ratio": self.ratio, "angle": self.angle}
        d.update(changes)
        return NestedModel(**d)

    # serialisation -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT, "nugget": self.nugget, "ratio": self.ratio, "angle": self.angle,
                "structures": [{"kind": s.kind, "psill": s.psill, "range": s.range, "shape": s.shape}
                               for s in self.structures]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def describe(self) -> str:
        parts = [f"nugget {self.nugget:.4g}"] + [
            f"{s.kind} (partial sill {s.psill:.4g}, range {s.range:.4g})" for s in self.structures]
        aniso = f", anisotropy ratio {self.ratio:g} at {self.angle:g} deg" if self.ratio != 1 else ""
        return "nested: " + " + ".join(parts) + f" (total sill {self.sill:.4g}){aniso}"


def model_from_dict(d: dict) -> VariogramModel | NestedModel:
    """A single or nested model from its saved dictionary (``to_dict``)."""
    if not isinstance(d, dict):
        raise GeoMLError("The variogram model file does not hold a model.")
    if d.get("format") != FORMAT:
        return VariogramModel.from_dict(d)
    try:
        structures = tuple(Structure(str(s["kind"]), float(s["psill"]), float(s["range"]),
                                     float(s.get("shape", 1.0))) for s in d["structures"])
        return NestedModel(float(d["nugget"]), structures, float(d.get("ratio", 1.0)), float(d.get("angle", 0.0)))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, GeoMLError):
            raise
        raise GeoMLError(f"This nested variogram model file is incomplete; problem with '{exc}'.") from exc


def model_from_json(text: str) -> VariogramModel | NestedModel:
    """A single or nested model from the JSON written by 'Fit variogram' or 'Fit nested variogram'."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeoMLError(f"The variogram model file is not valid JSON: {exc}") from exc
    return model_from_dict(d)


# fitting ---------------------------------------------------------------------------------
def gstat_weights(ev: ExperimentalVariogram) -> np.ndarray:
    """gstat's default fit weights ``N_j / h_j^2`` (``fit.method = 7``)."""
    return ev.counts / np.maximum(ev.lags, 1e-12 * ev.max_lag) ** 2


def sserr(model, ev: ExperimentalVariogram) -> float:
    """gstat's ``SSErr``: ``sum_j N_j / h_j^2 (gamma_model(h_j) - gamma_j)^2``."""
    return float(np.sum(gstat_weights(ev) * (model.gamma(ev.lags) - ev.gamma) ** 2))


def initial_nested(ev: ExperimentalVariogram, kinds: tuple[str, ...]) -> NestedModel:
    """Starting values from the experimental variogram: the first lag's value split into nugget and the
    short structure, the rest of the plateau to the long one; ranges a sixth and a half of the maximum lag."""
    gmax = float(np.max(ev.gamma))
    plateau = float(np.mean(ev.gamma[len(ev.gamma) // 2:]))
    g0 = float(ev.gamma[0])
    nugget = 0.5 * g0
    if len(kinds) == 1:
        return NestedModel(nugget, (Structure(kinds[0], max(plateau - nugget, 1e-3 * gmax), 0.5 * ev.max_lag),))
    short = Structure(kinds[0], max(0.5 * (plateau - nugget), 1e-3 * gmax), ev.max_lag / 6)
    long_ = Structure(kinds[1], max(0.5 * (plateau - nugget), 1e-3 * gmax), 0.6 * ev.max_lag)
    return NestedModel(nugget, (short, long_))


def fit_nested(
    ev: ExperimentalVariogram, initial: NestedModel | tuple[str, ...], fit_nugget: bool = True,
    fit_ranges: bool = True,
) -> tuple[NestedModel, float]:
    """Fit a nested model to *ev* by weighted least squares with weights ``N_j / h_j^2``.

    Parameters
    ----------
    ev : ExperimentalVariogram
    initial : NestedModel or tuple of structure kinds
        Starting model (its kinds and shapes are kept), as ``fit.variogram``'s model argument;
        or just the kinds, e.g. ``("spherical", "spherical")``, for automatic starting values.
    fit_nugget, fit_ranges : bool
        Keep the nugget / all ranges at their starting values when False.

    Returns
    -------
    model : NestedModel
        Partial sills >= 0 (a structure may vanish), ranges > 0; anisotropy from *initial*.
    sserr : float
        gstat's ``SSErr`` of the fitted model.
    """
    if not np.any(ev.gamma > 0):
        raise GeoMLError("All values are equal: the variogram is flat at zero and there is nothing to krige.")
    if not isinstance(initial, NestedModel):
        kinds = tuple(initial)
        for k in kinds:
            if k not in MODELS:
                raise GeoMLError(f"Unknown variogram structure '{k}'; use one of {', '.join(MODELS)}.")
        initial = initial_nested(ev, kinds)
    n_par = 1 + 2 * len(initial.structures)
    if len(ev.lags) < n_par:
        raise GeoMLError(
            f"The experimental variogram has {len(ev.lags)} lag classes, too few to fit {n_par} parameters; "
            "use more lag classes or fewer structures.")
    w = np.sqrt(gstat_weights(ev))
    scale = float(np.max(ev.gamma))
    names, x0, lo, hi = [], [], [], []
    if fit_nugget:
        names.append(("nugget", -1))
        x0.append(initial.nugget / scale)
        lo.append(0.0)
        hi.append(np.inf)
    for i, s in enumerate(initial.structures):
        names.append(("psill", i))
        x0.append(s.psill / scale)
        lo.append(0.0)
        hi.append(np.inf)
        if fit_ranges:
            names.append(("range", i))
            x0.append(s.range / ev.max_lag)
            lo.append(1e-6)
            hi.append(np.inf)

    def build(x) -> NestedModel:
        nug = initial.nugget
        ps = [s.psill for s in initial.structures]
        rg = [s.range for s in initial.structures]
        for (what, i), v in zip(names, x):
            if what == "nugget":
                nug = v * scale
            elif what == "psill":
                ps[i] = v * scale
            else:
                rg[i] = v * ev.max_lag
        structs = tuple(Structure(s.kind, float(p), float(r), s.shape)
                        for s, p, r in zip(initial.structures, ps, rg))
        if nug + sum(ps) <= 0:
            nug = 1e-12 * scale
        return NestedModel(float(nug), structs, initial.ratio, initial.angle)

    def residuals(x):
        return w * (build(x).gamma(ev.lags) - ev.gamma)

    x0 = np.clip(np.array(x0, float), np.array(lo) + 1e-9, None)
    sol = least_squares(residuals, x0, bounds=(np.array(lo), np.array(hi)), method="trf",
                        x_scale="jac", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
    model = build(sol.x)
    return model, sserr(model, ev)
