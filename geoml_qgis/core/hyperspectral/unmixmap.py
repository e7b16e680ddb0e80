"""Abundance maps of a cube, strip by strip: library endmembers resampled onto the cube's bands, FCLS or NNLS."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import GeoMLError
from ..io.provenance import provenance
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .classify import library_on_cube, open_cube
from .library import SpectralLibrary
from .stream import stream_strips
from .unmix import LinearUnmixer, endmembers_by_class

Warn = Callable[[str], None]
#: a library covering less than this share of the cube's usable bands is warned about
MIN_BAND_SHARE = 0.5


def unmix_cube(cube_path, library: SpectralLibrary, out_path, method: str = "fcls", parameters: dict | None = None,
               warn: Warn | None = None, progress: ProgressCallback | None = None, max_pixels: int = 65536,
               workers: int | None = None, algorithm: str = "geoml_qgis.core.hyperspectral.unmix_cube") -> dict:
    """Abundances of the library's classes (one endmember per class name: the mean of its spectra) in a cube.

    Writes *out_path*: one float32 band per class, then the RMS residual (reflectance units) band; no data
    where a pixel is invalid. Returns the mean abundance per class and the median RMSE. *workers* threads
    compute strips at once (None: every core); the file does not depend on it.
    """
    names, spectra = endmembers_by_class(library)
    lib = SpectralLibrary(library.wavelengths, spectra, names, library.fwhm, library.source)
    cube = open_cube(cube_path, warn)
    bands, refs = library_on_cube(lib, cube)
    share = bands.size / cube.good.size
    if share < MIN_BAND_SHARE and warn:
        warn(f"The library covers only {bands.size} of the {cube.good.size} usable bands of '{cube.name}' "
             f"({cube.wavelengths[bands[0]]:.0f}-{cube.wavelengths[bands[-1]]:.0f} nm); abundances rest on those bands.")
    unmixer = LinearUnmixer(refs, method)
    meta = provenance(algorithm, parameters)
    meta["GEOML_ENDMEMBERS"] = ",".join(names)
    m = len(names)
    sums, count, rmse_hist = np.zeros(m), 0, np.zeros(2001, np.int64)
    writer = BlockWriter(out_path, cube.grid, m + 1, "float32",
                         band_names=[f"abundance: {n}" for n in names] + ["RMSE (reflectance)"], metadata=meta,
                         style=RasterStyle("continuous", ramp="viridis", vmin=0.0, vmax=1.0))

    def compute(values: np.ndarray, valid: np.ndarray):
        block = np.full((m + 1, values.shape[1]), np.nan, np.float32)
        inside = valid.all()
        a, r = unmixer.unmix_bands(values if inside else values[:, valid])
        if inside:
            block[:m], block[m] = a, r
        else:
            block[:m, valid], block[m, valid] = a, r
        hist = np.bincount(np.minimum((r * 10000).astype(np.int64), 2000), minlength=2001)
        return block, (a.sum(axis=1, dtype=np.float64), a.shape[1], hist)

    consequence = "Abundances need the cube on the library's reflectance scale (0-1); they are meaningless otherwise."
    with writer as w:
        for part, n, hist in stream_strips(cube, bands, compute, w, consequence, warn, progress, max_pixels, workers):
            sums += part
            count += n
            rmse_hist += hist
    cube.close()
    if count == 0:
        raise GeoMLError(f"'{cube.name}' holds no valid pixel.")
    median_rmse = float(np.searchsorted(np.cumsum(rmse_hist), count / 2)) / 10000
    return {"mean_abundance": dict(zip(names, (sums / count).round(4).tolist())), "median_rmse": median_rmse,
            "bands_used": int(bands.size)}
