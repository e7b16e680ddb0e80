"""Absorption features of single spectra: minimum wavelength, depth, width and fit quality per window.

In each spectral window the spectrum is divided by its own continuum (upper convex
hull over the window's bands), so band depth is ``1 - continuum-removed value``. The
deepest band is found, and a curve is fitted by weighted least squares to the band
depths of ``fit_bands`` bands around it:

* ``parabola``: ``d(x) = c0 + c1 x + c2 x^2`` (the usual sub-band refinement of the
  minimum); width is the full width at half depth of the parabola (about 0.85 of the
  FWHM for a Gaussian-shaped feature, since a parabola follows only its tip);
* ``gaussian``: a parabola in ``log d`` (weights ``d^2``, Caruana's closed form), i.e.
  ``d(x) = D exp(-(x - c)^2 / 2 s^2)``; width is the Gaussian's FWHM.

Position is the fitted vertex (nm), depth the fitted band depth there, and quality
the coefficient of determination (R^2) of the fit on the fitted bands' depths. A pixel
gets no feature (NaN) when the deepest band is shallower than ``min_depth``, the
fitted curve has no minimum, or the vertex falls outside the fitted bands or the
window. Everything is vectorised over pixels; inputs are spectra as rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import GeoMLError
from .hull import CHUNK, continuum

FIT_METHODS = ("gaussian", "parabola")
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


@dataclass(frozen=True)
class FeatureWindow:
    """A spectral window ``[lo, hi]`` nm in which one absorption feature is sought."""

    name: str
    lo: float
    hi: float

    @property
    def label(self) -> str:
        return f"{self.name} {self.lo:g}-{self.hi:g} nm"


#: the windows of white mica (Al-OH), chlorite/epidote/carbonate (Mg-OH, CO3) and ferric iron
DEFAULT_WINDOWS = (
    FeatureWindow("Al-OH", 2120.0, 2245.0),
    FeatureWindow("Mg-OH/CO3", 2295.0, 2370.0),
    FeatureWindow("Fe3+", 900.0, 1000.0),
)
DEFAULT_WINDOWS_TEXT = "Al-OH=2120-2245; Mg-OH/CO3=2295-2370; Fe3+=900-1000"
#: the SWIR feature regions of alteration minerals for feature fitting (OH/H2O near 1,400 nm; alunite and
#: pyrophyllite near 1,760 nm; Al-OH and Fe-OH 2,160-2,270 nm; Mg-OH and CO3 2,300-2,350 nm)
DEFAULT_SFF_WINDOWS_TEXT = "OH=1350-1550; 1760=1700-1850; Al-OH/Fe-OH=2080-2290; Mg-OH/CO3=2280-2450"


def parse_windows(text: str) -> list[FeatureWindow]:
    """Windows from text like ``"Al-OH=2120-2245; 2295-2370"`` (nm; ``;`` or new lines between windows).

    An unnamed window is named by its range.
    """
    windows = []
    for item in re.split(r"[;\n]+", text or ""):
        item = item.strip()
        if not item:
            continue
        name, _, rng = item.rpartition("=")
        m = re.fullmatch(r"\s*([0-9.]+)\s*[-–:]\s*([0-9.]+)\s*(nm)?\s*", rng)
        if not m:
            raise GeoMLError(f"Cannot read the window '{item}': write it as 'name=start-end' in nm, "
                             "e.g. 'Al-OH=2120-2245', several separated by ';'.")
        lo, hi = float(m.group(1)), float(m.group(2))
        if not hi > lo:
            raise GeoMLError(f"The window '{item}' ends before it starts.")
        windows.append(FeatureWindow(name.strip() or f"{lo:g}-{hi:g}", lo, hi))
    if not windows:
        raise GeoMLError("Give at least one spectral window (e.g. 'Al-OH=2120-2245').")
    return windows


def window_bands(wavelengths: np.ndarray, window: FeatureWindow) -> np.ndarray:
    """Indices of *wavelengths* inside *window* (inclusive)."""
    wl = np.asarray(wavelengths, float)
    return np.flatnonzero((wl >= window.lo) & (wl <= window.hi))


@dataclass
class Features:
    """Per-pixel feature parameters, each ``(n,)`` float32, NaN where no feature was found."""

    position: np.ndarray
    depth: np.ndarray
    width: np.ndarray
    quality: np.ndarray

    def stack(self) -> np.ndarray:
        """``(4, n)``: position, depth, width, quality."""
        return np.stack([self.position, self.depth, self.width, self.quality])


def _solve3(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve the weighted normal equations of quadratic fits for many pixels at once (Cramer's rule).

    *s* ``(5, n)`` moments ``sum w x^k``, *t* ``(3, n)`` sums ``sum w x^k y``; returns the coefficients
    ``(3, n)`` and a flag for well-posed systems. The matrix ``[[s0 s1 s2] [s1 s2 s3] [s2 s3 s4]]`` is
    symmetric, so its cofactors give the inverse.
    """
    s0, s1, s2, s3, s4 = s
    a00, a01, a02 = s2 * s4 - s3 * s3, s2 * s3 - s1 * s4, s1 * s3 - s2 * s2
    a11, a12, a22 = s0 * s4 - s2 * s2, s1 * s2 - s0 * s3, s0 * s2 - s1 * s1
    det = s0 * a00 + s1 * a01 + s2 * a02
    ok = np.abs(det) > 1e-12 * (np.abs(s0 * s2 * s4) + 1e-300)
    inv = 1.0 / np.where(ok, det, 1.0)
    t0, t1, t2 = t
    coef = np.stack([(a00 * t0 + a01 * t1 + a02 * t2) * inv, (a01 * t0 + a11 * t1 + a12 * t2) * inv,
                     (a02 * t0 + a12 * t1 + a22 * t2) * inv])
    return coef, ok


def _argmax_bands(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First band of the largest value of each column of ``(b, n)`` and that value (``argmax(axis=0)``
    swept band by band: numpy's argmax over the first axis goes column by column)."""
    best = depth[0].copy()
    arg = np.zeros(depth.shape[1], np.intp)
    for j in range(1, depth.shape[0]):
        np.putmask(arg, depth[j] > best, j)
        np.maximum(best, depth[j], out=best)
    return arg, best


def fit_minimum(spectra: np.ndarray, wavelengths: np.ndarray, min_depth: float = 0.01, fit_bands: int = 5,
                method: str = "gaussian") -> Features:
    """Deepest absorption feature of spectra ``(n, b)`` over their bands ``(b,)`` (nm, one window).

    Parameters
    ----------
    spectra : ``(n, b)`` reflectance (any constant scale) on the window's bands
    wavelengths : ``(b,)`` nm, increasing
    min_depth : features shallower than this band depth (fitted) are reported as absent
    fit_bands : odd number of bands (>= 3, <= b) around the deepest band used by the fit
    method : ``"gaussian"`` or ``"parabola"``
    """
    x = np.asarray(spectra, np.float32)
    return fit_minimum_bands(np.ascontiguousarray(x.T), wavelengths, min_depth, fit_bands, method)


def fit_minimum_bands(bands: np.ndarray, wavelengths: np.ndarray, min_depth: float = 0.01, fit_bands: int = 5,
                      method: str = "gaussian") -> Features:
    """:func:`fit_minimum` of spectra given band by band, ``(b, n)`` (as a cube strip is read)."""
    if method not in FIT_METHODS:
        raise GeoMLError(f"Unknown fit '{method}'; use one of {', '.join(FIT_METHODS)}.")
    wl = np.asarray(wavelengths, np.float64)
    x = np.asarray(bands, np.float32)
    b, n = x.shape
    k = int(fit_bands)
    if k < 3 or k % 2 == 0:
        raise GeoMLError("The number of bands fitted around the minimum must be odd and at least 3.")
    if b < k:
        raise GeoMLError(f"The window holds {b} bands; the fit needs at least {k}.")
    out = np.empty((4, n), np.float32)
    step = float(np.median(np.diff(wl)))
    # the fitted bands' offsets from the deepest band (in steps) depend only on which band is deepest
    first = np.clip(np.arange(b) - k // 2, 0, b - k)
    offsets = ((wl[first[:, None] + np.arange(k)] - wl[:, None]) / step).T  # (k, b)
    for s in range(0, n, CHUNK):
        out[:, s:s + CHUNK] = _fit_chunk(np.ascontiguousarray(x[:, s:s + CHUNK]), wl, step, min_depth, k, method,
                                         first, offsets)
    return Features(*out)


def _fit_chunk(x: np.ndarray, wl: np.ndarray, step: float, min_depth: float, k: int, method: str,
               first: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Position, depth, width and quality ``(4, n)`` float32 of spectra ``(b, n)`` (NaN: no feature).

    *first* ``(b,)``: the first fitted band when band ``j`` is the deepest; *offsets* ``(k, b)``: the fitted
    bands' wavelengths less band ``j``'s, in steps.
    """
    b, n = x.shape
    cont = continuum(x, wl)
    if cont.min() > 0:
        depth = np.divide(x, cont, out=cont)
    else:  # a continuum at or below zero: no ratio there (band depth 1, as for a zero spectrum)
        depth = np.divide(x, cont, out=np.zeros_like(x), where=cont > 0)
    depth = np.subtract(1.0, depth, out=depth)  # (b, n) float32, 0 on the hull
    deepest, deepest_depth = _argmax_bands(depth)
    # the k fitted bands as rows (k, n): sums over few bands become vector additions
    xs = offsets.take(deepest, axis=1)  # band offsets from the deepest band, well conditioned
    flat = first.take(deepest) * n + np.arange(n)
    d = depth.ravel().take(flat + (np.arange(k) * n)[:, None]).astype(np.float64)
    if method == "parabola":
        y, w = d, None
    else:
        pos = d > 0
        y = np.log(np.where(pos, d, 1.0))
        w = np.where(pos, d * d, 0.0)
    s, t = np.empty((5, n)), np.empty((3, n))
    if w is None:  # s_p = sum x^p, t_p = sum y x^p: the products formed once each
        s[0] = k
        term = xs.copy()
    else:
        np.add.reduce(w, axis=0, out=s[0])
        term = w * xs
    for p in range(1, 5):
        np.add.reduce(term, axis=0, out=s[p])
        if p < 4:
            term *= xs
    term = y if w is None else w * y
    for p in range(3):
        np.add.reduce(term, axis=0, out=t[p])
        if p < 2:
            term = term * xs
    (c0, c1, c2), ok = _solve3(s, t)
    ok &= c2 < 0
    c2s = np.where(ok, c2, -1.0)
    vertex = -c1 / (2 * c2s)
    top = c0 - c1 * c1 / (4 * c2s)
    fitted = c0 + (c1 + c2 * xs) * xs  # (k, n)
    if method == "parabola":
        peak = top
        width = np.sqrt(np.maximum(2 * peak / -c2s, 0.0)) * step
        model = fitted
    else:
        peak = np.exp(np.minimum(top, 0.0))  # band depth cannot exceed 1
        width = np.sqrt(-1.0 / (2 * c2s)) * FWHM_PER_SIGMA * step
        model = np.exp(np.maximum(np.minimum(fitted, 0.0, out=fitted), -50.0, out=fitted), out=fitted)
    model -= d
    resid = np.add.reduce(np.square(model, out=model), axis=0)
    dev = d - np.add.reduce(d, axis=0) / k
    total = np.add.reduce(np.square(dev, out=dev), axis=0)
    quality = 1.0 - resid / np.where(total > 0, total, 1.0)
    position = wl.take(deepest) + vertex * step
    ok &= (vertex >= xs[0]) & (vertex <= xs[-1]) & (peak >= min_depth) & (deepest_depth >= min_depth)
    ok &= (position >= wl[0]) & (position <= wl[-1]) & (total > 0)
    ok &= np.isfinite(position) & np.isfinite(peak) & np.isfinite(width)
    out = np.empty((4, n), np.float32)
    for i, v in enumerate((position, peak, width, quality)):
        np.copyto(out[i], np.where(ok, v, np.nan), casting="unsafe")
    return out
