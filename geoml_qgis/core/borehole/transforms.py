"""Transforms of compositional assay data: log, centred log-ratio (clr), standardisation.

Element concentrations are closed (parts of a whole), so ratios carry the information:
the clr of a sample ``x`` of ``m`` parts is ``log(x_i) - mean_j log(x_j)``, which is the
geochemist's default before any distance-based method. Concentrations in different units
(ppm, %, ppb) only shift clr columns by a constant, which standardisation removes.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError

TRANSFORMS = ("none", "log", "clr")


def log_transform(values: np.ndarray) -> np.ndarray:
    """Natural log of positive values, shape kept."""
    v = np.asarray(values, float)
    if (v <= 0).any():
        raise GeoMLError("The log transform needs positive concentrations (clean below-detection values first).")
    return np.log(v)


def clr(values: np.ndarray) -> np.ndarray:
    """Centred log-ratio of compositions, (n, m) -> (n, m); each row sums to 0."""
    logs = log_transform(values)
    if logs.shape[1] < 2:
        raise GeoMLError("The centred log-ratio (clr) needs at least two elements.")
    return logs - logs.mean(axis=1, keepdims=True)


def apply_transform(values: np.ndarray, transform: str) -> np.ndarray:
    """``none``, ``log`` or ``clr`` of (n, m) values."""
    if transform == "none":
        return np.asarray(values, float)
    if transform == "log":
        return log_transform(values)
    if transform == "clr":
        return clr(values)
    raise GeoMLError(f"Unknown transform '{transform}'; choose one of {', '.join(TRANSFORMS)}.")


class Standardizer:
    """Centre and scale columns to unit variance (constant columns keep scale 1).

    Attributes after :meth:`fit`: ``mean_`` and ``scale_`` of shape (m,).
    """

    def fit(self, X: np.ndarray) -> "Standardizer":
        X = np.asarray(X, float)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, float) - self.mean_) / self.scale_


def prepare_features(values: np.ndarray, transform: str) -> tuple[np.ndarray, Standardizer]:
    """Transform then standardise (n, m) values; returns the features and the fitted scaler."""
    t = apply_transform(values, transform)
    scaler = Standardizer().fit(t)
    return scaler.transform(t), scaler
