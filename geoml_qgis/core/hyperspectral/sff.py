"""Spectral feature fitting: absorption-feature shape comparison after continuum removal.

Each pixel and each reference is divided by its continuum (upper convex hull);
the reference's band depths ``1 - CR`` are scaled by least squares onto the
pixel's (the scale absorbs a feature weakened by mixing or grain size), and the
root-mean-square residual measures the fit. The pixel gets the class of the
reference with the smallest residual among positive scales. This is the
least-squares core of ENVI's SFF / Tetracorder, over the whole common range (no
per-feature windows), offered as a second baseline beside SAM.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from .preprocess import continuum_removed


class SpectralFeatureFitting:
    """SFF classifier.

    Parameters
    ----------
    references : ``(m, b)`` library spectra on the pixels' bands
    reference_class : ``(m,)`` 0-based class of each reference
    wavelengths : ``(b,)`` nm
    """

    def __init__(self, references: np.ndarray, reference_class: np.ndarray, wavelengths: np.ndarray):
        refs = np.asarray(references, np.float32)
        if np.isnan(refs).any():
            raise GeoMLError("Library spectra hold gaps (NaN) on the bands used.")
        self.wavelengths = np.asarray(wavelengths, np.float32)
        self.depth_t = np.ascontiguousarray((1.0 - continuum_removed(refs, self.wavelengths)).T)  # (b, m)
        self.norm2 = (self.depth_t ** 2).sum(axis=0)
        if np.any(self.norm2 <= 0):
            raise GeoMLError("A library spectrum has no absorption feature (its continuum-removed spectrum is flat).")
        self.reference_class = np.asarray(reference_class, np.int64)

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes (uint8 ``(n,)``, 1 = first class) and RMS residual (float32 ``(n,)``) of spectra ``(n, b)``."""
        depth = 1.0 - continuum_removed(np.asarray(pixels, np.float32), self.wavelengths)
        dots = depth @ self.depth_t  # (n, m)
        own = np.einsum("ij,ij->i", depth, depth)[:, None]
        rss = np.maximum(own - dots ** 2 / self.norm2[None, :], 0.0)
        rss[dots <= 0] = np.inf  # a negative scale would fit an emission, not an absorption
        best = rss.argmin(axis=1)
        rms = np.sqrt(rss[np.arange(len(depth)), best] / depth.shape[1]).astype(np.float32)
        cls = (self.reference_class[best] + 1).astype(np.uint8)
        cls[~np.isfinite(rms)] = 0
        return cls, rms
