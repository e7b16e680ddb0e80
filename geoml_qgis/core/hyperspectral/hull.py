"""Continuum (upper convex hull) of many spectra at once, band-major: spectra as columns ``(b, n)``.

A band ``j`` is a hull vertex when some line through it lies on or above every other
band, i.e. when the steepest slope from ``j`` to any later band is at most the
shallowest slope from any earlier band to ``j``. Both are running minima and maxima
over band pairs, computed for all pixels at once with one vectorised step per band
(``O(b^2)`` per pixel, no data-dependent loop: fast for the 8-30 bands of a feature
window). Between two neighbouring vertices ``p < q`` the continuum is the straight
line ``x_p + (x_q - x_p) / (w_q - w_p) * (w - w_p)``, evaluated in float32 in that
order (as gift wrapping from the first band gives it, vertices included), where the slope
is the steepest one from ``p`` to a later band.
"""
from __future__ import annotations

import numpy as np

#: pixels per step (float32 rows of this length stay in the processor's cache)
CHUNK = 8192


def hull_edges(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hull vertices ``(b, n)`` bool of spectra *x* ``(b, n)`` float32 over *w* ``(b,)`` float32, and the
    steepest slope from each band to a later one ``(b, n)`` (at a vertex: the slope of the hull edge leaving it)."""
    b, n = x.shape
    lo = np.full((b, n), np.inf, np.float32)  # shallowest slope from an earlier band
    hi = np.full((b, n), -np.inf, np.float32)  # steepest slope to a later band
    scratch = np.empty((max(b - 1, 1), n), np.float32)  # one buffer: fresh large arrays cost page faults
    for i in range(b - 1):
        s = np.subtract(x[i + 1:], x[i], out=scratch[:b - 1 - i])
        s /= (w[i + 1:] - w[i])[:, None]
        np.maximum.reduce(s, axis=0, out=hi[i])
        np.minimum(lo[i + 1:], s, out=lo[i + 1:])
    return hi <= lo, hi


def continuum(x: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
    """Upper-hull continuum ``(b, n)`` float32 of spectra *x* ``(b, n)`` over *wavelengths* ``(b,)`` nm."""
    x = np.asarray(x, np.float32)
    w = np.asarray(wavelengths, np.float32)
    b, n = x.shape
    cont = np.empty((b, n), np.float32)
    for s in range(0, n, CHUNK):
        xc = np.ascontiguousarray(x[:, s:s + CHUNK])
        _continuum_chunk(xc, w, cont[:, s:s + CHUNK])
    return cont


def _continuum_chunk(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """The continuum of *x* into *out*: after a vertex ``p`` it follows the edge leaving ``p``."""
    vertex, slope = hull_edges(x, w)
    n = x.shape[1]
    px, ps, pw = x[0].copy(), slope[0].copy(), np.full(n, w[0], np.float32)
    out[0] = x[0]
    for j in range(1, x.shape[0]):
        np.add(px, ps * (w[j] - pw), out=out[j])
        v = vertex[j]
        np.putmask(px, v, x[j])  # (putmask: several times faster than copyto with where)
        np.putmask(ps, v, slope[j])
        np.putmask(pw, v, w[j])
