"""Drift (trend) terms for universal kriging, kriging with external drift and regression kriging.

A :class:`Drift` turns coordinates and covariate values into design-matrix rows: a constant, then
the coordinate terms of its ``kind`` (``"constant"``, ``"linear"``: x, y[, z]; ``"quadratic"``:
also their squares and cross products), then one column per external covariate. Coordinates and
covariates are centred and scaled on the data, which leaves kriging estimates and variances
unchanged (they depend on the span of the columns only) and keeps the systems well conditioned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GeoMLError

DRIFTS = ("constant", "linear", "quadratic")


@dataclass
class Drift:
    """Design of the trend: ``kind`` of coordinate drift plus ``n_covariates`` external drift columns."""

    kind: str = "linear"
    n_covariates: int = 0
    names: tuple[str, ...] = ()
    _loc: np.ndarray | None = field(default=None, repr=False)
    _scale: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in DRIFTS:
            raise GeoMLError(f"Unknown drift '{self.kind}'; use one of {', '.join(DRIFTS)}.")

    def _raw(self, coords: np.ndarray, covariates: np.ndarray | None) -> np.ndarray:
        coords = np.asarray(coords, dtype=np.float64)
        cols = []
        if self.kind != "constant":
            cols.append(coords)
        if self.n_covariates:
            if covariates is None:
                raise GeoMLError(f"The drift needs {self.n_covariates} covariate value(s) at every location.")
            cov = np.asarray(covariates, dtype=np.float64).reshape(len(coords), -1)
            if cov.shape[1] != self.n_covariates:
                raise GeoMLError(f"Expected {self.n_covariates} covariates, got {cov.shape[1]}.")
            cols.append(cov)
        return np.hstack(cols) if cols else np.empty((len(coords), 0))

    def fit(self, coords: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """Learn centring and scaling from the data; return their design matrix ``(n, p)``.

        Raises
        ------
        GeoMLError
            Non-finite covariates, or drift terms that are collinear on the data (e.g. a
            constant covariate, or two covariates proportional to each other).
        """
        raw = self._raw(coords, covariates)
        if not np.isfinite(raw).all():
            raise GeoMLError("A covariate has no value (nodata) at some samples; every sample needs every covariate.")
        self._loc = raw.mean(axis=0)
        sd = raw.std(axis=0)
        self._scale = np.where(sd > 0, sd, 1.0)
        f = self.design(coords, covariates)
        if np.linalg.matrix_rank(f, tol=1e-9 * len(f)) < f.shape[1]:
            raise GeoMLError(
                "The drift terms are collinear on the samples (a covariate is constant or a combination of the "
                "others or of the coordinates); drop one of them.")
        if len(f) <= f.shape[1]:
            raise GeoMLError(f"{f.shape[1]} drift terms need more than {f.shape[1]} samples.")
        return f

    def design(self, coords: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """Design matrix ``(m, p)`` at *coords* ``(m, d)`` with *covariates* ``(m, n_covariates)``."""
        if self._loc is None:
            raise GeoMLError("The drift is not fitted to data yet.")
        raw = (self._raw(coords, covariates) - self._loc) / self._scale
        d = np.asarray(coords).shape[1]
        cols = [np.ones((len(raw), 1))]
        if self.kind != "constant":
            xyz = raw[:, :d]
            cols.append(xyz)
            if self.kind == "quadratic":
                i, j = np.triu_indices(d)
                cols.append(xyz[:, i] * xyz[:, j])
        if self.n_covariates:
            cols.append(raw[:, -self.n_covariates:])
        return np.hstack(cols)

    @property
    def n_terms(self) -> int:
        if self._loc is None:
            raise GeoMLError("The drift is not fitted to data yet.")
        d = len(self._loc) - self.n_covariates
        coord_terms = 0 if self.kind == "constant" else d + (d * (d + 1) // 2 if self.kind == "quadratic" else 0)
        return 1 + coord_terms + self.n_covariates

    def describe(self) -> str:
        parts = ["constant"] + ([] if self.kind == "constant" else [f"{self.kind} in the coordinates"])
        if self.n_covariates:
            parts.append("covariates " + ", ".join(self.names or [f"#{i + 1}" for i in range(self.n_covariates)]))
        return "drift: " + " + ".join(parts)
