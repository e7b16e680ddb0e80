"""Sequential Gaussian simulation onto rasters: N realisations band by band, E-type, standard deviation, P(> cut-off)."""
from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Sequence

import numpy as np

from ..io.grid import Grid, Window
from ..io.raster import open_raster, read_window
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .indicator_rasters import exceedance_band_names
from .simulation import SequentialGaussianSimulation

#: rows x columns written at once
_WRITE_BLOCK = 256


def _windows(grid: Grid):
    return grid.windows(_WRITE_BLOCK)


def simulate_to_rasters(
    sgs: SequentialGaussianSimulation, grid: Grid, n: int, seed: int | None = 0,
    realisations_path: str | os.PathLike | None = None, etype_path: str | os.PathLike | None = None,
    sd_path: str | os.PathLike | None = None, exceedance_path: str | os.PathLike | None = None,
    cutoffs: Sequence[float] = (), metadata: dict | None = None, progress: ProgressCallback | None = None,
    mask_path: str | os.PathLike | None = None,
) -> dict:
    """Simulate *n* realisations on *grid* and write the requested rasters.

    ``realisations_path``: n bands (``realisation_1`` ...), each written when its realisation is done, so
    memory holds one batch of realisations (see :class:`.SequentialGaussianSimulation`) plus running
    sums. ``etype_path``: mean of the realisations; ``sd_path``: their standard deviation;
    ``exceedance_path``: one band per cut-off with the fraction of realisations above it. Cells where
    band 1 of *mask_path* is nodata are not simulated (nodata).
    Returns ``{"dropped": data in an already occupied cell}``.
    """
    valid = None
    if mask_path:
        ds = open_raster(mask_path)
        valid = ~np.ma.getmaskarray(read_window(ds, Window(0, 0, grid.width, grid.height), [1])[0])
        ds = None
    cut = np.asarray(sorted(cutoffs), dtype=np.float64)
    total = np.zeros((grid.height, grid.width))
    total2 = np.zeros_like(total)
    above = np.zeros((len(cut), grid.height, grid.width))
    with ExitStack() as stack:
        wr = None
        if realisations_path:
            wr = stack.enter_context(BlockWriter(
                realisations_path, grid, n, "float32", band_names=[f"realisation_{i + 1}" for i in range(n)],
                metadata=metadata, style=RasterStyle("continuous", ramp="viridis")))
        for i, real in enumerate(sgs.realisations(grid, n, seed, valid, progress=progress)):
            if wr is not None:
                for win in _windows(grid):
                    wr.write_band(win, i, real[win.row_off:win.row_off + win.height, win.col_off:win.col_off + win.width])
            total += real
            total2 += real ** 2
            for k, c in enumerate(cut):
                above[k] += real > c
        mean = total / n
        sd = np.sqrt(np.maximum(total2 / n - mean ** 2, 0.0))
        above[:, np.isnan(mean)] = np.nan
        outputs = [(etype_path, mean[None], ["etype"], RasterStyle("continuous", ramp="viridis")),
                   (sd_path, sd[None], ["standard_deviation"], RasterStyle("continuous", ramp="magma")),
                   (exceedance_path, above / n, exceedance_band_names(cut),
                    RasterStyle("continuous", ramp="spectral_r", vmin=0.0, vmax=1.0))]
        for path, arr, names, style in outputs:
            if not path or (path is exceedance_path and not len(cut)):
                continue
            w = stack.enter_context(BlockWriter(path, grid, len(arr), "float32", band_names=names, metadata=metadata,
                                                style=style))
            for win in _windows(grid):
                w.write(win, arr[:, win.row_off:win.row_off + win.height, win.col_off:win.col_off + win.width])
    return {"dropped": sgs.n_dropped_}
