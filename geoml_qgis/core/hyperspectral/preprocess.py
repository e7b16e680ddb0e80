"""Spectrum preprocessing: brightness normalisation, continuum removal, first derivative.

All functions take spectra as rows, ``(n, b)`` float arrays, and return new arrays.
Brightness normalisation and continuum removal make a spectrum independent of
illumination (a spectrum times a constant gives the same result).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from .hull import continuum

METHODS = ("brightness", "continuum", "derivative", "none")


def brightness_normalise(x: np.ndarray) -> np.ndarray:
    """Divide each spectrum by its mean value, ``(n, b) -> (n, b)``; spectra with mean <= 0 become 0."""
    mean = x.mean(axis=1, keepdims=True)
    return np.divide(x, mean, out=np.zeros_like(x), where=mean > 0)


def continuum_removed(x: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
    """Divide each spectrum by its continuum (upper convex hull, :mod:`.hull`), ``(n, b) -> (n, b)`` in (0, 1]."""
    xt = np.ascontiguousarray(np.asarray(x, np.float32).T)
    cont = continuum(xt, wavelengths)
    return np.divide(xt, cont, out=np.zeros_like(xt), where=cont > 0).T.copy()


def first_derivative(x: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
    """Derivative of the brightness-normalised spectra per 10 nm, ``(n, b) -> (n, b-1)``."""
    xn = brightness_normalise(x)
    return (np.diff(xn, axis=1) / np.diff(np.asarray(wavelengths, np.float32))[None, :] * 10.0).astype(x.dtype)


def preprocess(x: np.ndarray, wavelengths: np.ndarray, method: str) -> np.ndarray:
    """Apply *method* (one of :data:`METHODS`) to spectra ``(n, b)``."""
    x = np.asarray(x, np.float32)
    if method == "brightness":
        return brightness_normalise(x)
    if method == "continuum":
        return continuum_removed(x, wavelengths)
    if method == "derivative":
        return first_derivative(x, wavelengths)
    if method == "none":
        return x
    raise GeoMLError(f"Unknown preprocessing '{method}'; use one of {', '.join(METHODS)}.")


def output_bands(n_bands: int, method: str) -> int:
    """Number of values per spectrum after *method*."""
    return n_bands - 1 if method == "derivative" else n_bands
