"""Spectral Angle Mapper: the class of the library spectrum at the smallest angle.

The angle between a pixel ``x`` and a reference ``m`` is ``arccos(x.m / (|x| |m|))``;
it ignores brightness (illumination). The best reference is the one with the
largest cosine, so only the winning angle needs an ``arccos``: one matrix product
per block of pixels and no ``(pixels x references)`` angle array.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError


class SpectralAngleMapper:
    """SAM classifier.

    Parameters
    ----------
    references : ``(m, b)`` library spectra on the pixels' bands (no NaN)
    reference_class : ``(m,)`` int, 0-based class of each reference
    classes : class names (class ``k`` is written as ``k + 1``)
    max_angle : float, radians; pixels whose best angle is larger are unclassified (0)
    """

    def __init__(self, references: np.ndarray, reference_class: np.ndarray, classes: list[str],
                 max_angle: float = np.pi / 2):
        refs = np.asarray(references, np.float64)
        if np.isnan(refs).any():
            raise GeoMLError("Library spectra hold gaps (NaN) on the bands used.")
        norms = np.linalg.norm(refs, axis=1)
        if np.any(norms <= 0):
            raise GeoMLError("A library spectrum is zero on every band used.")
        self.unit_t = np.ascontiguousarray((refs / norms[:, None]).T, np.float32)  # (b, m)
        self.reference_class = np.asarray(reference_class, np.int64)
        self.classes = list(classes)
        if max_angle is None or not max_angle > 0:
            raise GeoMLError("The maximum angle must be a positive number of radians.")
        self.max_angle = float(max_angle)

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes and angles of spectra ``(n, b)``.

        Returns ``(classes, angles)``: uint8 ``(n,)`` with 1 = first class and 0 =
        unclassified (angle above ``max_angle`` or a zero spectrum), and float32
        ``(n,)`` smallest angle in radians (NaN for zero spectra).
        """
        x = np.asarray(pixels, np.float32)
        dots = x @ self.unit_t
        best = dots.argmax(axis=1)
        norm = np.sqrt(np.einsum("ij,ij->i", x, x))
        top = dots[np.arange(len(x)), best]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.clip(top / norm, -1.0, 1.0)
        angle = np.arccos(cos).astype(np.float32)
        cls = (self.reference_class[best] + 1).astype(np.uint8)
        cls[~(angle <= self.max_angle)] = 0
        return cls, angle
