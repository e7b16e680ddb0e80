"""Band resampling between sensors with Gaussian spectral response functions.

A target band with centre ``c`` and full width at half maximum ``f`` sees the
spectrum through a Gaussian of standard deviation ``f / 2.3548``. When the source
is itself made of bands of width ``f_s`` (not a continuous 1 nm spectrum), the
Gaussian applied to the source samples is narrowed to ``sqrt(f^2 - f_s^2)`` so
the result has the target's width; it never gets narrower than half the local
source spacing (a narrower target band than the source can resolve is then an
interpolation of its neighbours). Wavelengths are in nanometres throughout.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))

#: a target band counts as covered by a source when at least this share of its response falls on source bands
MIN_COVERED_WEIGHT = 0.5


def default_fwhm(wavelengths: np.ndarray) -> np.ndarray:
    """FWHM equal to the local band spacing (the usual assumption when a sensor gives none)."""
    w = np.asarray(wavelengths, float)
    if w.size < 2:
        return np.full(w.shape, 10.0)
    gaps = np.diff(w)
    left = np.concatenate([gaps[:1], gaps])
    right = np.concatenate([gaps, gaps[-1:]])
    return np.maximum(np.minimum(left, right), 1e-6)


def _spacing(w: np.ndarray) -> np.ndarray:
    """Width each source sample stands for (trapezoid rule), shape ``(n,)``."""
    if w.size < 2:
        return np.ones_like(w)
    edges = np.concatenate([[w[0] - (w[1] - w[0]) / 2], (w[1:] + w[:-1]) / 2, [w[-1] + (w[-1] - w[-2]) / 2]])
    return np.diff(edges)


def srf_matrix(
    src_wl: np.ndarray,
    dst_wl: np.ndarray,
    dst_fwhm: np.ndarray | None = None,
    src_fwhm: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Resampling weights from source bands to target bands.

    Parameters
    ----------
    src_wl, dst_wl : arrays ``(n_src,)``, ``(n_dst,)``
        Band centres (nm), increasing.
    dst_fwhm, src_fwhm : arrays, optional
        Band widths (nm); by default the band spacing.

    Returns
    -------
    weights : ``(n_src, n_dst)`` float64
        Each column sums to 1 where covered (``spectrum @ weights`` resamples).
    covered : ``(n_dst,)`` bool
        Whether at least :data:`MIN_COVERED_WEIGHT` of the target band's response
        falls inside the source's range.
    """
    src = np.asarray(src_wl, float)
    dst = np.asarray(dst_wl, float)
    if src.ndim != 1 or dst.ndim != 1 or src.size == 0 or dst.size == 0:
        raise GeoMLError("Wavelengths must be non-empty lists of numbers.")
    if np.any(np.diff(src) <= 0) or np.any(np.diff(dst) <= 0):
        raise GeoMLError("Band wavelengths must be strictly increasing.")
    fd = default_fwhm(dst) if dst_fwhm is None else np.asarray(dst_fwhm, float)
    fs = default_fwhm(src) if src_fwhm is None else np.asarray(src_fwhm, float)
    dx = _spacing(src)
    # the target's width left to apply to source samples that already have width fs
    src_width_at_dst = np.interp(dst, src, fs)
    spacing_at_dst = np.interp(dst, src, dx)
    sigma = np.sqrt(np.maximum(fd ** 2 - src_width_at_dst ** 2, 0.0)) * FWHM_TO_SIGMA
    sigma = np.maximum(sigma, 0.5 * spacing_at_dst)
    z = (src[:, None] - dst[None, :]) / sigma[None, :]
    w = np.exp(-0.5 * z * z) * dx[:, None]
    w[np.abs(z) > 5] = 0.0
    total = w.sum(axis=0)
    ideal = np.sqrt(2 * np.pi) * sigma  # mass of the full Gaussian
    covered = total >= MIN_COVERED_WEIGHT * ideal
    safe = np.where(total > 0, total, 1.0)
    return w / safe[None, :], covered


def resample_spectra(
    spectra: np.ndarray,
    src_wl: np.ndarray,
    dst_wl: np.ndarray,
    dst_fwhm: np.ndarray | None = None,
    src_fwhm: np.ndarray | None = None,
) -> np.ndarray:
    """Resample spectra ``(n, n_src)`` to ``(n, n_dst)``; NaN where a spectrum does not cover a band.

    Missing (NaN) source values are left out and the weights of the others
    renormalised, so library spectra measured over different ranges resample
    honestly: a target band is NaN when less than half of its response falls on
    valid source values.
    """
    x = np.atleast_2d(np.asarray(spectra, float))
    w, covered = srf_matrix(src_wl, dst_wl, dst_fwhm, src_fwhm)
    valid = np.isfinite(x)
    num = np.where(valid, x, 0.0) @ w
    den = valid.astype(float) @ w  # share of each target band's (normalised) response on valid samples
    out = num / np.where(den > 0, den, 1.0)
    out[(den < MIN_COVERED_WEIGHT) | ~covered[None, :]] = np.nan
    return out


def even_grid(lo: float, hi: float, max_bands: int, min_spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """At most *max_bands* evenly spaced band centres over ``[lo, hi]``, spacing at least *min_spacing*.

    Returns ``(centres, fwhm)`` with FWHM equal to the spacing (adjacent bands
    cross at half maximum, the usual design of imaging spectrometers).
    """
    if hi <= lo:
        raise GeoMLError(f"Empty wavelength range {lo:.0f}-{hi:.0f} nm.")
    n = int(min(max_bands, max(2, np.floor((hi - lo) / max(min_spacing, 1e-6)) + 1)))
    centres = np.linspace(lo, hi, n)
    step = centres[1] - centres[0]
    return centres, np.full(n, step)
