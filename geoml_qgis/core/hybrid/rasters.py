"""Hybrid predictions onto a raster grid, block by block (cell centres, north-up)."""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Sequence

import numpy as np

from ..io.blocks import process_blocks
from ..io.grid import Grid, Window
from ..io.raster import RasterStack
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .predictor import HybridPredictor

#: block side: small enough that two workers share a strip or a part-covered grid evenly
BLOCK = 128


def predict_to_rasters(
    hp: HybridPredictor, grid: Grid, prediction_path: str | os.PathLike, uncertainty_path: str | os.PathLike,
    covariate_paths: Sequence[str] = (), metadata: dict | None = None, progress: ProgressCallback | None = None,
    z_level: float | None = None, workers: int | None = None, device: str | None = "cpu",
) -> None:
    """Write the ensemble prediction and its spread (standard deviation over members) on *grid*.

    Covariates are warped onto *grid* on the fly; cells where one is nodata stay nodata. A 3D
    model predicts on the horizontal slice at *z_level*. *workers* threads predict blocks at once
    (None: every core); the files do not depend on it. *device*: ``cpu``, ``auto`` or ``cuda``.
    """
    lock = threading.Lock()
    with contextlib.ExitStack() as stack:
        cov = stack.enter_context(RasterStack(list(covariate_paths), reference=grid)) if covariate_paths else None
        wp = stack.enter_context(BlockWriter(prediction_path, grid, 1, "float32", band_names=["prediction"],
                                             metadata=metadata, style=RasterStyle("continuous", ramp="viridis")))
        wu = stack.enter_context(BlockWriter(uncertainty_path, grid, 1, "float32", band_names=["ensemble_spread"],
                                             metadata=metadata, style=RasterStyle("continuous", ramp="magma")))

        def compute(win: Window):
            x, y = grid.cell_centres(win)
            cols = [x.ravel(), y.ravel()] + ([np.full(x.size, float(z_level))] if z_level is not None else [])
            xy = np.column_stack(cols)
            pred, unc = np.full(len(xy), np.nan), np.full(len(xy), np.nan)
            values = None
            valid = np.ones(len(xy), bool)
            if cov is not None:
                with lock:  # one GDAL read at a time
                    block = cov.read(win)
                valid = ~np.ma.getmaskarray(block).any(axis=0).ravel()
                values = np.asarray(block.data, float).reshape(block.shape[0], -1).T[valid]
            if valid.any():
                pred[valid], unc[valid] = hp.predict(xy[valid], values, device, workers=1)
            return pred.reshape(win.height, win.width), unc.reshape(win.height, win.width)

        process_blocks(grid, compute, [wp, wu], progress, BLOCK, workers)
