"""Small synthetic probability/uncertainty rasters for the drill-target tests (synthetic: Gaussian bumps
on an 80 x 60 grid of 10 m cells)."""
from __future__ import annotations

import numpy as np

from geoml_qgis.core.io import BlockWriter, Grid

GRID = Grid(80, 60, (0.0, 10.0, 0.0, 600.0, 0.0, -10.0), "EPSG:32610")


def target_raster(path, arr) -> str:
    """*arr* (60, 80) written as a float32 GeoTIFF on GRID (NaN = nodata); returns its path."""
    with BlockWriter(path, GRID) as w:
        w.write(next(GRID.windows(1024)), np.ma.masked_invalid(arr.astype(np.float32)))
    return str(path)


def bump(cx, cy, r, h) -> np.ndarray:
    """A Gaussian bump of height *h* and radius *r* centred at (*cx*, *cy*) on GRID."""
    xs, ys = GRID.cell_centres()
    return h * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r ** 2))
