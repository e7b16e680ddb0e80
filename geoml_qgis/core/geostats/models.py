"""Variogram models with PyKrige's parameter semantics.

``sill`` is the *total* sill (partial sill + nugget), ``range`` the practical range in map
units, ``nugget`` the discontinuity at the origin. As in PyKrige, ``gamma(h)`` includes the
nugget for every ``h`` (the kriging system sets the diagonal, a point with itself, to 0).

* spherical: ``c (1.5 h/a - 0.5 (h/a)^3) + n`` for ``h <= a``, ``c + n`` beyond;
* exponential: ``c (1 - exp(-3 h / a)) + n``;
* gaussian: ``c (1 - exp(-(h / (4a/7))^2)) + n`` (PyKrige's convention);
* stable: ``c (1 - exp(-3 (h/a)^s)) + n`` with shape ``0 < s <= 2`` (s=1 is exponential).

Geometric anisotropy (2D): ``angle`` is the direction of the major axis in degrees
counter-clockwise from east, ``ratio`` = minor range / major range (0 < ratio <= 1). It is
applied by rotating and stretching coordinates (PyKrige's ``anisotropy_angle`` and
``anisotropy_scaling = 1 / ratio``).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import GeoMLError

MODELS = ("spherical", "exponential", "gaussian", "stable")
MODEL_CHOICES = ("auto", *MODELS)  # "auto": fit every model and keep the best


@dataclass(frozen=True)
class VariogramModel:
    """A bounded variogram model: ``kind``, ``nugget``, total ``sill``, practical ``range``.

    ``shape`` is used by the stable model only; ``ratio``/``angle`` describe 2D geometric
    anisotropy (see the module docstring).
    """

    kind: str
    nugget: float
    sill: float
    range: float
    shape: float = 1.0
    ratio: float = 1.0
    angle: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise GeoMLError(f"Unknown variogram model '{self.kind}'; use one of {', '.join(MODELS)}.")
        for name in ("nugget", "sill", "range", "shape", "ratio", "angle"):
            if not math.isfinite(float(getattr(self, name))):
                raise GeoMLError(f"The variogram {name} must be a finite number.")
        if self.nugget < 0:
            raise GeoMLError("The nugget cannot be negative.")
        if self.sill < self.nugget:
            raise GeoMLError(
                f"The sill ({self.sill:g}) is the total sill and must be at least the nugget ({self.nugget:g})."
            )
        if self.sill <= 0:
            raise GeoMLError("The sill must be positive (all values equal? then there is nothing to krige).")
        if self.range <= 0:
            raise GeoMLError("The variogram range must be a positive distance.")
        if not 0 < self.shape <= 2:
            raise GeoMLError("The stable model's shape must be in (0, 2].")
        if not 0 < self.ratio <= 1:
            raise GeoMLError("The anisotropy ratio (minor range / major range) must be in (0, 1].")

    @property
    def psill(self) -> float:
        """Partial sill ``sill - nugget``."""
        return self.sill - self.nugget

    def gamma(self, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Semivariance at (isotropic, already anisotropy-corrected) distances *h* (any shape).

        Computed in place on one float64 buffer (*out*, which may be *h* itself, or a new
        array): this is the kriging engine's inner loop.
        """
        if out is None:
            g = np.array(h, dtype=np.float64)
        else:
            g = out
            if g is not h:
                g[...] = h
        g *= 1.0 / self.range
        if self.kind == "spherical":
            np.minimum(g, 1.0, out=g)
            r = g * g
            r *= -0.5
            r += 1.5
            g *= r
        elif self.kind == "exponential":
            g *= -3.0
            np.exp(g, out=g)
            np.subtract(1.0, g, out=g)
        elif self.kind == "gaussian":
            g *= 7.0 / 4.0
            np.multiply(g, g, out=g)
            np.negative(g, out=g)
            np.exp(g, out=g)
            np.subtract(1.0, g, out=g)
        else:
            np.power(g, self.shape, out=g)
            g *= -3.0
            np.exp(g, out=g)
            np.subtract(1.0, g, out=g)
        g *= self.psill
        g += self.nugget
        return g

    def covariance(self, h: np.ndarray) -> np.ndarray:
        """``sill - gamma(h)`` for ``h > 0`` and ``sill`` at ``h == 0``."""
        h = np.asarray(h, dtype=np.float64)
        return np.where(h > 0, self.sill - self.gamma(h), self.sill)

    def with_params(self, **changes) -> "VariogramModel":
        d = asdict(self)
        d.update(changes)
        return VariogramModel(**d)

    # coordinates -------------------------------------------------------------
    def transform(self, coords: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
        """Coordinates ``(n, d)`` in the isotropic frame: rotate by ``-angle``, stretch the minor axis.

        Only 2D coordinates are transformed; 3D ones are returned as float64 copies.
        """
        xy = np.array(coords, dtype=np.float64)
        if xy.shape[1] != 2 or (self.ratio == 1 and self.angle == 0):
            return xy
        c = np.zeros(2) if centre is None else np.asarray(centre, float)
        t = np.deg2rad(self.angle)
        dx, dy = xy[:, 0] - c[0], xy[:, 1] - c[1]
        u = math.cos(t) * dx + math.sin(t) * dy
        v = (-math.sin(t) * dx + math.cos(t) * dy) / self.ratio
        return np.column_stack([u + c[0], v + c[1]])

    # serialisation -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "geoml-variogram", **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "VariogramModel":
        try:
            if d.get("format") != "geoml-variogram":
                raise KeyError("format")
            keys = ("kind", "nugget", "sill", "range", "shape", "ratio", "angle")
            return cls(**{k: (str(d[k]) if k == "kind" else float(d[k])) for k in keys if k in d})
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, GeoMLError):
                raise
            raise GeoMLError(
                "This is not a GeoML variogram model file (made by 'Fit variogram'); "
                f"problem with '{exc}'."
            ) from exc

    @classmethod
    def from_json(cls, text: str) -> "VariogramModel":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GeoMLError(f"The variogram model file is not valid JSON: {exc}") from exc
        if not isinstance(d, dict):
            raise GeoMLError("The variogram model file does not hold a model.")
        return cls.from_dict(d)

    def describe(self) -> str:
        extra = f", shape {self.shape:g}" if self.kind == "stable" else ""
        aniso = f", anisotropy ratio {self.ratio:g} at {self.angle:g} deg" if self.ratio != 1 else ""
        return (f"{self.kind}: nugget {self.nugget:.4g}, partial sill {self.psill:.4g} "
                f"(total sill {self.sill:.4g}), range {self.range:.4g}{extra}{aniso}")
