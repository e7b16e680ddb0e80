"""Trend kriging onto raster grids: covariate rasters sampled at the data and read on the grid, block by block."""
from __future__ import annotations

import inspect
import os
import threading
from typing import Sequence

import numpy as np

from ..errors import GeoMLError
from ..io.blocks import process_blocks
from ..io.grid import Grid, Window
from ..io.raster import RasterStack
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .rasters import _Mask, _targets, kriging_block, search_workers


def sample_covariates(paths: Sequence[str | os.PathLike], coords: np.ndarray,
                      resampling: str = "nearest") -> tuple[np.ndarray, list[str]]:
    """Values ``(n, q)`` of the covariate rasters (every band of each) at sample ``coords (n, 2)``.

    Rasters are read on the grid of the first one (others aligned to it with *resampling*).

    Raises
    ------
    GeoMLError
        A covariate has no value (outside the raster or nodata) at some sample: the message
        names the raster and the first such sample.
    """
    if not paths:
        return np.empty((len(coords), 0)), []
    with RasterStack(list(paths), resampling=resampling) as stack:
        vals = stack.sample(coords[:, 0], coords[:, 1])
        names = list(stack.band_names)
    missing = np.ma.getmaskarray(vals) | ~np.isfinite(vals.filled(np.nan))
    if missing.any():
        b = int(np.flatnonzero(missing.any(axis=0))[0])
        i = int(np.flatnonzero(missing[:, b])[0])
        raise GeoMLError(
            f"The covariate raster '{names[b]}' has no value at {int(missing[:, b].sum())} of {len(coords)} samples "
            f"(first at x={coords[i, 0]:.6g}, y={coords[i, 1]:.6g}); kriging with a covariate needs it at every "
            "sample. Use a covariate raster covering all samples, or clip the samples to it.")
    return np.asarray(vals.filled(np.nan), dtype=np.float64), names


def trend_krige_to_rasters(
    estimator, grid: Grid, covariate_paths: Sequence[str | os.PathLike], estimate_path: str | os.PathLike,
    variance_path: str | os.PathLike, metadata: dict | None = None, progress: ProgressCallback | None = None,
    mask_path: str | os.PathLike | None = None, resampling: str = "bilinear", workers: int | None = None,
) -> int:
    """Stream a fitted :class:`~.universal.UniversalKriging` or :class:`~.regression.RegressionKriging`
    onto *grid* as styled estimate and variance GeoTIFFs.

    Covariates are read on *grid* (aligned with *resampling* where their grids differ). Cells where a
    covariate has no value, or band 1 of *mask_path* is nodata, are left nodata. *workers* threads krige
    blocks at once (None: every core); the files do not depend on it.

    Returns
    -------
    int
        Number of cells left nodata because a covariate had no value there.
    """
    mask = _Mask(mask_path)
    stack = RasterStack(list(covariate_paths), reference=grid, resampling=resampling) if covariate_paths else None
    uncovered = 0
    lock = threading.Lock()  # GDAL reads one at a time; the count is shared
    # the neighbour search's threads, where the estimator takes them (cokriging does not)
    takes_workers = "workers" in inspect.signature(estimator.predict).parameters
    search = {"workers": search_workers(workers)} if takes_workers else {}

    def compute(win: Window):
        nonlocal uncovered
        t = _targets(grid, win, None)
        valid = mask.valid(win)
        valid = np.ones(len(t), bool) if valid is None else valid
        cov = None
        if stack is not None:
            with lock:
                block = stack.read(win)
            cov = block.filled(np.nan).reshape(stack.count, -1).T.astype(np.float64)
            has = np.isfinite(cov).all(axis=1)
            with lock:
                uncovered += int((valid & ~has).sum())
            valid = valid & has
        est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
        if valid.any():
            r = estimator.predict(t[valid], None if cov is None else cov[valid], **search)
            est[valid], var[valid] = r.estimate, r.variance
        return est.reshape(win.height, win.width), var.reshape(win.height, win.width)

    try:
        with BlockWriter(estimate_path, grid, 1, "float32", band_names=["estimate"], metadata=metadata,
                         style=RasterStyle("continuous", ramp="viridis")) as we, \
                BlockWriter(variance_path, grid, 1, "float32", band_names=["kriging_variance"], metadata=metadata,
                            style=RasterStyle("continuous", ramp="magma")) as wv:
            block = kriging_block(grid, getattr(estimator, "coords_", None))
            process_blocks(grid, compute, [we, wv], progress, block, workers)
    finally:
        if stack is not None:
            stack.close()
    return uncovered
