"""Kriging onto raster grids, block by block at cell centres (north-up), and kriged feature stacks."""
from __future__ import annotations

import os

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..io.blocks import process_blocks
from ..io.grid import Grid, Window
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .kriging import OrdinaryKriging

#: raster block edge while kriging (cells); 256 x 256 cells share neighbour sets well
KRIGING_BLOCK = 256
FEATURE_BANDS = ("estimate", "variance", "nearest_sample_distance", "sample_density_per_km2")


def check_extent(coords: np.ndarray, grid: Grid) -> None:
    """Refuse a grid that holds none of the samples (kriging there is pure extrapolation)."""
    xmin, ymin, xmax, ymax = grid.bounds
    inside = (coords[:, 0] >= xmin) & (coords[:, 0] <= xmax) & (coords[:, 1] >= ymin) & (coords[:, 1] <= ymax)
    if not inside.any():
        raise GeoMLError(
            f"None of the {len(coords)} samples lies inside the output extent "
            f"(x {xmin:.6g}..{xmax:.6g}, y {ymin:.6g}..{ymax:.6g}); check the extent and that the "
            "layer and the extent use the same CRS."
        )


def _targets(grid: Grid, window: Window, z_level: float | None) -> np.ndarray:
    x, y = grid.cell_centres(window)
    cols = [x.ravel(), y.ravel()]
    if z_level is not None:
        cols.append(np.full(x.size, float(z_level)))
    return np.column_stack(cols)


def krige_window(ok: OrdinaryKriging, grid: Grid, window: Window, z_level: float | None = None):
    """Estimate and variance ``(h, w)`` at the cell centres of *window* (NaN where out of reach)."""
    r = ok.predict(_targets(grid, window, z_level))
    return r.estimate.reshape(window.height, window.width), r.variance.reshape(window.height, window.width)


def krige_to_rasters(
    ok: OrdinaryKriging, grid: Grid, estimate_path: str | os.PathLike, variance_path: str | os.PathLike,
    z_level: float | None = None, metadata: dict | None = None, progress: ProgressCallback | None = None,
) -> None:
    """Stream kriging estimate and variance onto *grid* as two styled GeoTIFFs.

    With 3D samples, *z_level* is the elevation of the horizontal slice kriged.
    """
    with BlockWriter(estimate_path, grid, 1, "float32", band_names=["estimate"], metadata=metadata,
                     style=RasterStyle("continuous", ramp="viridis")) as we, \
            BlockWriter(variance_path, grid, 1, "float32", band_names=["kriging_variance"], metadata=metadata,
                        style=RasterStyle("continuous", ramp="magma")) as wv:
        process_blocks(grid, lambda win: krige_window(ok, grid, win, z_level), [we, wv], progress, KRIGING_BLOCK)


def kriged_features(
    ok: OrdinaryKriging, grid: Grid, path: str | os.PathLike, density_radius: float,
    z_level: float | None = None, metadata: dict | None = None, progress: ProgressCallback | None = None,
) -> None:
    """Four-band raster of features for machine learning on *grid* (e.g. a feature stack's grid).

    Bands (see :data:`FEATURE_BANDS`): kriging estimate, kriging variance, distance from the cell
    centre to the nearest sample (map units), and local sample density: samples within
    *density_radius* per square kilometre (map units taken as metres).
    """
    if not density_radius > 0:
        raise GeoMLError("The sample density radius must be a positive distance.")
    coords = ok.coords_
    tree = cKDTree(coords)
    area_km2 = np.pi * density_radius ** 2 / 1e6

    def compute(win: Window) -> np.ndarray:
        t = _targets(grid, win, z_level if coords.shape[1] == 3 else None)
        r = ok.predict(t)
        dist, _ = tree.query(t, k=1, workers=-1)
        count = tree.query_ball_point(t, density_radius, return_length=True, workers=-1)
        return np.stack([r.estimate, r.variance, dist, count / area_km2]).reshape(4, win.height, win.width)

    with BlockWriter(path, grid, 4, "float32", band_names=list(FEATURE_BANDS), metadata=metadata,
                     style=RasterStyle("continuous", ramp="viridis")) as w:
        process_blocks(grid, compute, w, progress, KRIGING_BLOCK)
