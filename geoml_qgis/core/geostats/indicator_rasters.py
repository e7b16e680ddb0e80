"""Indicator kriging onto raster grids: exceedance probabilities (one band per cut-off), E-type, conditional variance."""
from __future__ import annotations

import os
import threading
from contextlib import ExitStack

import numpy as np

from ..io.blocks import process_blocks
from ..io.grid import Grid, Window
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .indicator import IndicatorKriging
from .rasters import _Mask, _targets, kriging_block, search_workers


def exceedance_band_names(cutoffs: np.ndarray) -> list[str]:
    return [f"P(>{c:g})" for c in cutoffs]


def indicator_to_rasters(
    ik: IndicatorKriging, grid: Grid, exceedance_path: str | os.PathLike, etype_path: str | os.PathLike | None = None,
    variance_path: str | os.PathLike | None = None, metadata: dict | None = None,
    progress: ProgressCallback | None = None, mask_path: str | os.PathLike | None = None,
    workers: int | None = None,
) -> int:
    """Stream a fitted :class:`IndicatorKriging` onto *grid*.

    Writes a K-band raster of P(value > cut-off) (bands named ``P(>cut-off)``, styled 0..1) and, when
    paths are given, the E-type estimate and the conditional variance. Returns the number of cells
    whose kriged indicators needed an order-relation correction. *workers* threads krige blocks at once
    (None: every core); the files do not depend on it.
    """
    mask = _Mask(mask_path)
    K = len(ik.cutoffs_)
    corrected = 0
    lock = threading.Lock()
    search = search_workers(workers)

    def compute(win: Window):
        nonlocal corrected
        t = _targets(grid, win, None)
        valid = mask.valid(win)
        valid = np.ones(len(t), bool) if valid is None else valid
        p = np.full((len(t), K), np.nan)
        e, v = np.full(len(t), np.nan), np.full(len(t), np.nan)
        if valid.any():
            r = ik.predict(t[valid], workers=search)
            p[valid], e[valid], v[valid] = r.exceedance, r.etype, r.conditional_variance
            with lock:
                corrected += r.n_corrected
        shape = (win.height, win.width)
        out = [p.T.reshape(K, *shape)]
        if etype_path:
            out.append(e.reshape(shape))
        if variance_path:
            out.append(v.reshape(shape))
        return out

    writers = [BlockWriter(exceedance_path, grid, K, "float32", band_names=exceedance_band_names(ik.cutoffs_),
                           metadata=metadata, style=RasterStyle("continuous", ramp="spectral_r", vmin=0.0, vmax=1.0))]
    if etype_path:
        writers.append(BlockWriter(etype_path, grid, 1, "float32", band_names=["etype"], metadata=metadata,
                                   style=RasterStyle("continuous", ramp="viridis")))
    if variance_path:
        writers.append(BlockWriter(variance_path, grid, 1, "float32", band_names=["conditional_variance"],
                                   metadata=metadata, style=RasterStyle("continuous", ramp="magma")))
    with ExitStack() as stack:
        entered = [stack.enter_context(w) for w in writers]
        process_blocks(grid, compute, entered, progress, kriging_block(grid, ik.coords_), workers)
    return corrected
