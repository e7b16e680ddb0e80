"""Raster grids and block windows.

A :class:`Grid` is the geometry of a north-up raster: size, geotransform and CRS.
Cell ``(row, col)`` covers ``[x0 + col*dx, x0 + (col+1)*dx]`` horizontally and
``[y0 - (row+1)*dy, y0 - row*dy]`` vertically; values belong to cell centres.
Row 0 is the northernmost row.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np

from ..errors import GeoMLError

DEFAULT_BLOCK = 512


class Window(NamedTuple):
    """A rectangular block of a raster, in pixels (as ``rasterio.windows.Window``)."""

    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def size(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Grid:
    """Geometry of a north-up raster.

    Parameters
    ----------
    width, height : int
        Number of columns and rows.
    transform : tuple of 6 floats
        GDAL geotransform ``(x0, dx, 0, y0, 0, -dy)`` of the top-left corner.
    crs_wkt : str
        Coordinate reference system as WKT; empty when unknown.
    """

    width: int
    height: int
    transform: tuple
    crs_wkt: str = ""

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise GeoMLError(f"A raster grid needs at least one cell (got {self.width} x {self.height}).")
        t = tuple(float(v) for v in self.transform)
        if len(t) != 6:
            raise GeoMLError("A geotransform has 6 numbers.")
        if t[2] != 0 or t[4] != 0 or t[1] <= 0 or t[5] >= 0:
            raise GeoMLError(
                "Only north-up rasters without rotation are supported; warp the raster "
                "(Raster > Projections > Warp) to a north-up grid first."
            )
        object.__setattr__(self, "transform", t)

    # construction -----------------------------------------------------------
    @classmethod
    def from_bounds(
        cls, xmin: float, ymin: float, xmax: float, ymax: float, pixel_size: float, crs_wkt: str = ""
    ) -> "Grid":
        """Grid covering the extent with square cells of *pixel_size*, anchored at the top-left."""
        if not pixel_size or pixel_size <= 0:
            raise GeoMLError("The pixel size must be a positive number of map units.")
        if xmax <= xmin or ymax <= ymin:
            raise GeoMLError(f"The extent is empty: x {xmin}..{xmax}, y {ymin}..{ymax}.")
        width = max(1, int(math.ceil((xmax - xmin) / pixel_size - 1e-9)))
        height = max(1, int(math.ceil((ymax - ymin) / pixel_size - 1e-9)))
        return cls(width, height, (xmin, pixel_size, 0.0, ymax, 0.0, -pixel_size), crs_wkt)

    # geometry ----------------------------------------------------------------
    @property
    def res(self) -> tuple[float, float]:
        """Cell size ``(dx, dy)``, both positive."""
        return self.transform[1], -self.transform[5]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the outer cell edges."""
        x0, dx, _, y0, _, dy = self.transform
        return x0, y0 + dy * self.height, x0 + dx * self.width, y0

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def cell_centres(self, window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of cell centres of *window* (whole grid by default).

        Returns ``(x, y)``, each of shape ``(height, width)``; ``y`` decreases with row.
        """
        w = window or Window(0, 0, self.width, self.height)
        x0, dx, _, y0, _, dy = self.transform
        xs = x0 + (np.arange(w.col_off, w.col_off + w.width) + 0.5) * dx
        ys = y0 + (np.arange(w.row_off, w.row_off + w.height) + 0.5) * dy
        return np.meshgrid(xs, ys)

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of the cells containing points; third output: inside the grid."""
        x0, dx, _, y0, _, dy = self.transform
        col = np.floor((np.asarray(x, float) - x0) / dx).astype(np.int64)
        row = np.floor((np.asarray(y, float) - y0) / dy).astype(np.int64)
        inside = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return row, col, inside

    def windows(self, block_size: int = DEFAULT_BLOCK) -> Iterator[Window]:
        """Blocks of at most ``block_size`` x ``block_size`` cells, row-major from the top."""
        for r in range(0, self.height, block_size):
            for c in range(0, self.width, block_size):
                yield Window(c, r, min(block_size, self.width - c), min(block_size, self.height - r))

    def n_windows(self, block_size: int = DEFAULT_BLOCK) -> int:
        return math.ceil(self.height / block_size) * math.ceil(self.width / block_size)

    def aligned_with(self, other: "Grid", rel_tol: float = 1e-9) -> bool:
        """Same size, cells and CRS (within a fraction *rel_tol* of a cell)."""
        if (self.width, self.height) != (other.width, other.height):
            return False
        tol = rel_tol * min(self.res)
        if any(abs(a - b) > tol for a, b in zip(self.transform, other.transform)):
            return False
        from .crs import same_crs

        return same_crs(self.crs_wkt, other.crs_wkt)
