"""Spectral feature fitting in diagnostic windows: a class and a fit score per pixel.

The whole-range :class:`~.sff.SpectralFeatureFitting` compares one continuum over all
bands; here each absorption feature is compared in its own window, as Tetracorder and
the binary/spectral feature fitting baselines do. In every window both the pixel and
each reference are divided by their own continuum (hull over the window's bands), and
the fit of the reference's band depths ``r`` to the pixel's ``p`` is the share of the
pixel's feature that a positive scaling of the reference explains,
``(p.r)^2 / (|p|^2 |r|^2)`` (0 when the best scale is negative). A reference's score is
the mean of its window fits weighted by the deeper of the two features in that window,
so a window where neither has a feature does not count and a feature present in only one
of them pulls the score down. The pixel takes the class of the best-scoring reference;
scores below ``min_score`` leave it unclassified (0).
"""
from __future__ import annotations

import contextlib
from typing import Callable, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io.blocks import bounded_gdal_cache
from ..io.provenance import provenance
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback, report
from .classify import NODATA_CLASS, class_style, library_on_cube, open_cube
from .features import DEFAULT_SFF_WINDOWS_TEXT, FeatureWindow, parse_windows, window_bands
from .library import SpectralLibrary
from .preprocess import continuum_removed
from .reflectance import check_reflectance

Warn = Callable[[str], None]
MIN_WINDOW_BANDS = 3


class WindowedFeatureFitting:
    """Feature fitting classifier over windows.

    Parameters
    ----------
    references : ``(m, b)`` library spectra on the pixels' bands
    reference_class : ``(m,)`` 0-based class of each reference
    wavelengths : ``(b,)`` nm
    windows : windows with at least :data:`MIN_WINDOW_BANDS` bands each
    min_score : pixels whose best score is lower are unclassified
    """

    def __init__(self, references: np.ndarray, reference_class: np.ndarray, wavelengths: np.ndarray,
                 windows: Sequence[FeatureWindow], min_score: float = 0.0):
        refs = np.asarray(references, np.float32)
        if np.isnan(refs).any():
            raise GeoMLError("Library spectra hold gaps (NaN) on the bands used.")
        self.wavelengths = np.asarray(wavelengths, np.float64)
        self.windows, self.bands, self.ref_depth, self.ref_norm2, self.ref_max = [], [], [], [], []
        for w in windows:
            idx = window_bands(self.wavelengths, w)
            if idx.size < MIN_WINDOW_BANDS:
                continue
            d = 1.0 - continuum_removed(refs[:, idx], self.wavelengths[idx])
            self.windows.append(w)
            self.bands.append(idx)
            self.ref_depth.append(np.ascontiguousarray(d.T))  # (k, m)
            self.ref_norm2.append((d * d).sum(axis=1))
            self.ref_max.append(d.max(axis=1))
        if not self.windows:
            lo, hi = self.wavelengths[0], self.wavelengths[-1]
            raise GeoMLError(f"None of the windows ({', '.join(w.label for w in windows)}) holds {MIN_WINDOW_BANDS} "
                             f"or more of the bands shared by the cube and the library ({lo:.0f}-{hi:.0f} nm).")
        self.reference_class = np.asarray(reference_class, np.int64)
        self.min_score = float(min_score)

    def scores(self, pixels: np.ndarray) -> np.ndarray:
        """Fit score of every reference, ``(n, m)`` in [0, 1]."""
        x = np.asarray(pixels, np.float32)
        num = np.zeros((len(x), len(self.reference_class)))
        den = np.zeros_like(num)
        for idx, rd, rn2, rmax in zip(self.bands, self.ref_depth, self.ref_norm2, self.ref_max):
            d = 1.0 - continuum_removed(x[:, idx], self.wavelengths[idx])
            dots = d @ rd
            own = np.einsum("ij,ij->i", d, d)[:, None]
            prod = own * rn2[None, :]
            fit = np.where((dots > 0) & (prod > 0), dots * dots / np.where(prod > 0, prod, 1.0), 0.0)
            weight = np.maximum(rmax[None, :], d.max(axis=1)[:, None])
            num += weight * fit
            den += weight
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes (uint8 ``(n,)``, 1 = first class, 0 = below ``min_score``) and best scores (float32 ``(n,)``)."""
        s = self.scores(pixels)
        best = s.argmax(axis=1)
        score = s[np.arange(len(s)), best].astype(np.float32)
        cls = (self.reference_class[best] + 1).astype(np.uint8)
        cls[score < self.min_score] = 0
        return cls, score


def classify_feature_fitting(cube_path, library: SpectralLibrary, out_classes, out_score=None,
                             windows: Sequence[FeatureWindow] | None = None, min_score: float = 0.5,
                             parameters: dict | None = None, warn: Warn | None = None,
                             progress: ProgressCallback | None = None, max_pixels: int = 65536) -> dict:
    """Windowed spectral feature fitting over a cube; returns pixel counts per class name."""
    library.require_classes(2)
    cube = open_cube(cube_path, warn)
    bands, refs = library_on_cube(library, cube)
    wins = parse_windows(DEFAULT_SFF_WINDOWS_TEXT) if windows is None else list(windows)
    sff = WindowedFeatureFitting(refs, library.y, cube.wavelengths[bands], wins, min_score)
    skipped = [w.label for w in wins if w not in sff.windows]
    if skipped and warn:
        warn(f"Windows with fewer than {MIN_WINDOW_BANDS} shared bands are left out: {', '.join(skipped)}.")
    meta = provenance("geoml:spectralfeaturefitting", parameters)
    meta["GEOML_CLASSES"] = ",".join(library.classes)
    meta["GEOML_WINDOWS"] = "; ".join(f"{w.name}={w.lo:g}-{w.hi:g}" for w in sff.windows)
    counts = np.zeros(len(library.classes) + 1, np.int64)
    writers = [BlockWriter(out_classes, cube.grid, 1, "uint8", nodata=NODATA_CLASS, band_names=["class"],
                           metadata=meta, style=class_style(library.classes))]
    if out_score:
        writers.append(BlockWriter(out_score, cube.grid, 1, "float32", band_names=["feature fit score"],
                                   metadata=meta, style=RasterStyle("continuous", ramp="viridis", vmin=0, vmax=1)))
    checked = False
    report(progress, 0.0)
    with contextlib.ExitStack() as stack, bounded_gdal_cache():
        opened = [stack.enter_context(w) for w in writers]
        for window in cube.strips(max_pixels):
            pixels, valid = cube.read_pixels(window, bands)
            if not checked and valid.any():
                check_reflectance(pixels, valid, cube.name, "Feature fits do not depend on a constant scale, but "
                                  "radiance keeps solar and atmospheric features that confuse them.", warn)
                checked = True
            cls = np.full(len(pixels), NODATA_CLASS, np.uint8)
            score = np.full(len(pixels), np.nan, np.float32)
            cls[valid], score[valid] = sff.predict(pixels[valid])
            counts += np.bincount(cls[valid], minlength=counts.size)
            for writer, out in zip(opened, (cls, score)):
                writer.write(window, out.reshape(window.height, window.width))
            report(progress, (window.row_off + window.height) / cube.height)
    cube.close()
    return {"unclassified": int(counts[0]), **{c: int(counts[i + 1]) for i, c in enumerate(library.classes)}}
