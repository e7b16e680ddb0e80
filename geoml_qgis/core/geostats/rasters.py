"""Kriging onto raster grids, block by block at cell centres (north-up), and kriged feature stacks."""
from __future__ import annotations

import os
import threading

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..io.blocks import process_blocks
from ..io.grid import Grid, Window
from ..io.raster import open_raster, read_window
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from ..threads import resolve_workers
from .kriging import OrdinaryKriging

#: raster block edge while kriging (cells); 256 x 256 cells share neighbour sets well
KRIGING_BLOCK = 256
#: samples a block may cover before its edge is halved (their pairwise table should stay in cache)
BLOCK_SAMPLES = 1000
FEATURE_BANDS = ("estimate", "variance", "nearest_sample_distance", "sample_density_per_km2")


def check_extent(coords: np.ndarray, grid: Grid) -> None:
    """Refuse a grid far from every sample (kriging there is pure extrapolation).

    A small extent between samples is fine: the grid is accepted when a sample lies
    inside it, or when at least 3 lie within max(its diagonal, 3 x the median sample
    spacing) of it.
    """
    xmin, ymin, xmax, ymax = grid.bounds
    dx = np.maximum(np.maximum(xmin - coords[:, 0], coords[:, 0] - xmax), 0.0)
    dy = np.maximum(np.maximum(ymin - coords[:, 1], coords[:, 1] - ymax), 0.0)
    dist = np.hypot(dx, dy)
    inside = dist == 0
    if not inside.any() and len(coords) >= 3:
        spacing = float(np.median(cKDTree(coords[:, :2]).query(coords[:, :2], k=2)[0][:, 1]))
        reach = max(float(np.hypot(xmax - xmin, ymax - ymin)), 3.0 * spacing)
        inside = dist <= reach
        inside = inside if inside.sum() >= 3 else np.zeros_like(inside)
    if not inside.any():
        raise GeoMLError(
            f"None of the {len(coords)} samples lies inside the output extent "
            f"(x {xmin:.6g}..{xmax:.6g}, y {ymin:.6g}..{ymax:.6g}); check the extent and that the "
            "layer and the extent use the same CRS."
        )


def kriging_block(grid: Grid, coords: np.ndarray | None) -> int:
    """Block edge (cells) for kriging samples ``coords (n, 2|3)`` onto *grid*: :data:`KRIGING_BLOCK`, halved
    (down to 64) while a block would cover more than :data:`BLOCK_SAMPLES` samples at their mean density.

    A block's kriging systems are gathered from a table of the pairwise values of the samples it uses;
    coarse cells over dense samples would make that table large and slow to read.
    """
    if coords is None or len(coords) < 2:
        return KRIGING_BLOCK
    span = np.ptp(np.asarray(coords)[:, :2], axis=0)
    if not span[0] * span[1] > 0:
        return KRIGING_BLOCK
    density = len(coords) / float(span[0] * span[1])
    size = KRIGING_BLOCK
    while size > 64 and density * (size * abs(grid.transform[1])) * (size * abs(grid.transform[5])) > BLOCK_SAMPLES:
        size //= 2
    return size


def _targets(grid: Grid, window: Window, z_level: float | None) -> np.ndarray:
    x, y = grid.cell_centres(window)
    cols = [x.ravel(), y.ravel()]
    if z_level is not None:
        cols.append(np.full(x.size, float(z_level)))
    return np.column_stack(cols)


class _Mask:
    """Cells to skip: nodata of band 1 of a raster on the same grid (None: krige every cell)."""

    def __init__(self, path: str | os.PathLike | None):
        self.ds = open_raster(path) if path else None
        self.lock = threading.Lock()  # blocks are kriged by several threads; GDAL reads one at a time

    def valid(self, window: Window) -> np.ndarray | None:
        if self.ds is None:
            return None
        with self.lock:
            block = read_window(self.ds, window, [1])[0]
        return ~np.ma.getmaskarray(block).ravel()


def search_workers(workers: int | None) -> int:
    """Threads for the neighbour search inside a block: 1 where blocks already run in parallel threads."""
    return 1 if resolve_workers(workers) > 1 else -1


def _predict(ok: OrdinaryKriging, t: np.ndarray, valid: np.ndarray | None,
             workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
    if valid is None:
        r = ok.predict(t, workers=workers)
        return r.estimate, r.variance
    est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
    if valid.any():
        r = ok.predict(t[valid], workers=workers)
        est[valid], var[valid] = r.estimate, r.variance
    return est, var


def krige_window(ok: OrdinaryKriging, grid: Grid, window: Window, z_level: float | None = None,
                 valid: np.ndarray | None = None, workers: int = -1):
    """Estimate and variance ``(h, w)`` at the cell centres of *window* (NaN where out of reach or not valid);
    *workers* threads search neighbours."""
    est, var = _predict(ok, _targets(grid, window, z_level), valid, workers)
    return est.reshape(window.height, window.width), var.reshape(window.height, window.width)


def krige_to_rasters(
    ok: OrdinaryKriging, grid: Grid, estimate_path: str | os.PathLike, variance_path: str | os.PathLike,
    z_level: float | None = None, metadata: dict | None = None, progress: ProgressCallback | None = None,
    mask_path: str | os.PathLike | None = None, workers: int | None = None,
) -> None:
    """Stream kriging estimate and variance onto *grid* as two styled GeoTIFFs.

    With 3D samples, *z_level* is the elevation of the horizontal slice kriged. Cells where band 1
    of *mask_path* (a raster on *grid*, e.g. the reference) is nodata are left nodata. *workers*
    threads krige blocks at once (None: every core); the files do not depend on it.
    """
    mask = _Mask(mask_path)
    search = search_workers(workers)
    with BlockWriter(estimate_path, grid, 1, "float32", band_names=["estimate"], metadata=metadata,
                     style=RasterStyle("continuous", ramp="viridis")) as we, \
            BlockWriter(variance_path, grid, 1, "float32", band_names=["kriging_variance"], metadata=metadata,
                        style=RasterStyle("continuous", ramp="magma")) as wv:
        process_blocks(grid, lambda win: krige_window(ok, grid, win, z_level, mask.valid(win), search), [we, wv],
                       progress, kriging_block(grid, ok.coords_), workers)


def kriged_features(
    ok: OrdinaryKriging, grid: Grid, path: str | os.PathLike, density_radius: float,
    z_level: float | None = None, metadata: dict | None = None, progress: ProgressCallback | None = None,
    mask_path: str | os.PathLike | None = None, workers: int | None = None,
) -> None:
    """Four-band raster of features for machine learning on *grid* (e.g. a feature stack's grid).

    Bands (see :data:`FEATURE_BANDS`): kriging estimate, kriging variance, distance from the cell
    centre to the nearest sample (map units), and local sample density: samples within
    *density_radius* per square kilometre (map units taken as metres). Cells where band 1 of
    *mask_path* is nodata are left nodata. *workers* as in :func:`krige_to_rasters`.
    """
    mask = _Mask(mask_path)
    if not density_radius > 0:
        raise GeoMLError("The sample density radius must be a positive distance.")
    coords = ok.coords_
    tree = cKDTree(coords)
    area_km2 = np.pi * density_radius ** 2 / 1e6
    search = search_workers(workers)

    def compute(win: Window) -> np.ndarray:
        t = _targets(grid, win, z_level if coords.shape[1] == 3 else None)
        valid = mask.valid(win)
        est, var = _predict(ok, t, valid, search)
        dist, _ = tree.query(t, k=1, workers=search)
        count = tree.query_ball_point(t, density_radius, return_length=True, workers=search)
        out = np.stack([est, var, dist, count / area_km2])
        if valid is not None:
            out[:, ~valid] = np.nan
        return out.reshape(4, win.height, win.width)

    with BlockWriter(path, grid, 4, "float32", band_names=list(FEATURE_BANDS), metadata=metadata,
                     style=RasterStyle("continuous", ramp="viridis")) as w:
        process_blocks(grid, compute, w, progress, kriging_block(grid, coords), workers)
