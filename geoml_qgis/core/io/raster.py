"""Reading rasters with GDAL: one file or an aligned stack, block by block.

GDAL datasets are kept referenced for as long as their bands are used (a band
outliving its dataset crashes the process).
"""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from osgeo import gdal

from ..errors import GeoMLError
from .atomic import staged_path
from .crs import to_wkt
from .guards import public_name
from .grid import DEFAULT_BLOCK, Grid, Window

gdal.UseExceptions()

RESAMPLING = {"nearest", "bilinear", "cubic", "average", "mode"}


def open_raster(path: str | os.PathLike) -> gdal.Dataset:
    """Open a raster read-only with a clear error when it cannot be read."""
    p = staged_path(path)  # an output written earlier in this run is read from its staged file
    if not p.startswith("/vsi") and not Path(p).exists():
        raise GeoMLError(f"Raster not found: {p}")
    try:
        ds = gdal.Open(p, gdal.GA_ReadOnly)
    except RuntimeError as exc:
        raise GeoMLError(f"GDAL cannot read '{p}' as a raster: {exc}") from exc
    if ds is None or ds.RasterCount == 0:
        raise GeoMLError(f"'{p}' holds no raster bands.")
    return ds


def dataset_grid(ds: gdal.Dataset) -> Grid:
    """The :class:`Grid` of an open dataset (a rotated or south-up raster is refused, named)."""
    try:
        return Grid(ds.RasterXSize, ds.RasterYSize, ds.GetGeoTransform(), ds.GetProjection() or "")
    except GeoMLError as exc:
        raise GeoMLError(f"'{Path(public_name(ds.GetDescription())).name}': {exc}") from exc


def raster_grid(path: str | os.PathLike) -> Grid:
    ds = open_raster(path)
    return dataset_grid(ds)


def band_names(ds: gdal.Dataset, default_stem: str) -> list[str]:
    """Band descriptions, falling back to ``stem`` (one band) or ``stem_bN``."""
    names = []
    for i in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(i)
        desc = (band.GetDescription() or "").strip()
        names.append(desc or (default_stem if ds.RasterCount == 1 else f"{default_stem}_b{i}"))
    return names


def read_window(ds: gdal.Dataset, window: Window, bands: Sequence[int] | None = None) -> np.ma.MaskedArray:
    """Read *window* of the given 1-based *bands* as float32.

    Returns a masked array of shape ``(n_bands, height, width)``; cells equal to a
    band's nodata value or not finite are masked. No value is ever substituted.
    """
    idx = list(bands) if bands is not None else list(range(1, ds.RasterCount + 1))
    out = np.empty((len(idx), window.height, window.width), dtype=np.float32)
    mask = np.zeros(out.shape, dtype=bool)
    for k, b in enumerate(idx):
        band = ds.GetRasterBand(b)
        if band.DataType == gdal.GDT_Float32:  # straight into the block: no temporary array, no copy
            arr = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height, buf_obj=out[k])
        else:
            arr = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height)
            out[k] = arr
        nodata = band.GetNoDataValue()
        if nodata is not None and not np.isnan(nodata):  # a NaN nodata is masked as not finite below
            np.equal(arr, nodata, out=mask[k])
    mask |= ~np.isfinite(out)
    return np.ma.MaskedArray(out, mask=mask)


class RasterStack:
    """Several rasters seen as one multi-band raster on a common grid.

    Rasters whose grid differs from the reference (CRS, resolution, extent) are
    warped on the fly through an in-memory VRT: nothing is loaded whole, and
    reading a window only reads the source pixels that window needs.

    Parameters
    ----------
    paths : sequence of path
        Input rasters; every band of each becomes a band of the stack.
    reference : Grid or path, optional
        Target grid; by default the grid of the first raster.
    resampling : str or sequence of str
        ``nearest`` (use it for categorical rasters), ``bilinear``, ``cubic``,
        ``average`` or ``mode``; one value or one per input.
    assume_crs : str, optional
        CRS for inputs that carry none (the reference's CRS by default).

    Use as a context manager, or call :meth:`close`. Several threads may :meth:`read` at once:
    each reads files through its own GDAL handle (a dataset serves one thread at a time), so
    block workers decode in parallel; warped inputs are read by one thread at a time.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        reference: Grid | str | os.PathLike | None = None,
        resampling: str | Sequence[str] = "bilinear",
        assume_crs: str | None = None,
    ):
        if not paths:
            raise GeoMLError("No input rasters were given.")
        self.paths = [str(p) for p in paths]
        methods = [resampling] * len(self.paths) if isinstance(resampling, str) else list(resampling)
        if len(methods) != len(self.paths):
            raise GeoMLError("Give one resampling method, or one per input raster.")
        for m in methods:
            if m not in RESAMPLING:
                raise GeoMLError(f"Unknown resampling '{m}'; use one of {sorted(RESAMPLING)}.")
        self._sources = [open_raster(p) for p in self.paths]
        if reference is None:
            self.grid = dataset_grid(self._sources[0])
        elif isinstance(reference, Grid):
            self.grid = reference
        else:
            self._ref_ds = open_raster(reference)
            self.grid = dataset_grid(self._ref_ds)
        fallback_crs = to_wkt(assume_crs) if assume_crs else self.grid.crs_wkt
        self._vsimem: list[str] = []
        self._datasets: list[gdal.Dataset] = []
        self.band_names: list[str] = []
        self._band_map: list[tuple[int, int]] = []  # (dataset index, band number)
        self._lock = threading.Lock()
        self._handles: dict[int, list[gdal.Dataset]] = {}  # thread id -> its own handles of unwarped inputs
        self.warped: list[bool] = []
        for i, (src, path, method) in enumerate(zip(self._sources, self.paths, methods)):
            ds, warped = self._align(src, path, method, fallback_crs)
            self._datasets.append(ds)
            self.warped.append(warped)
            for b, name in enumerate(band_names(src, Path(path).stem), start=1):
                self.band_names.append(name)
                self._band_map.append((i, b))

    def _align(self, src: gdal.Dataset, path: str, method: str, fallback_crs: str) -> tuple[gdal.Dataset, bool]:
        src_grid = dataset_grid(src)
        if not src_grid.crs_wkt:  # e.g. GeoTIFFs without a CRS tag
            src_grid = Grid(src_grid.width, src_grid.height, src_grid.transform, fallback_crs)
        if src_grid.aligned_with(self.grid):
            return src, False
        src_crs = src_grid.crs_wkt
        if not src_crs and self.grid.crs_wkt:
            raise GeoMLError(f"'{path}' has no CRS; assign one (Raster > Projections > Assign Projection).")
        vrt = f"/vsimem/geoml_{uuid.uuid4().hex}.vrt"
        xmin, ymin, xmax, ymax = self.grid.bounds
        nodatas = [src.GetRasterBand(b).GetNoDataValue() for b in range(1, src.RasterCount + 1)]
        opts = gdal.WarpOptions(
            format="VRT",
            outputBounds=(xmin, ymin, xmax, ymax),
            width=self.grid.width,
            height=self.grid.height,
            srcSRS=src_crs or None,
            dstSRS=self.grid.crs_wkt or src_crs or None,
            resampleAlg=method,
            dstNodata=nodatas[0] if nodatas[0] is not None else np.nan,
            outputType=gdal.GDT_Float32,
        )
        try:
            ds = gdal.Warp(vrt, src, options=opts)
        except RuntimeError as exc:
            raise GeoMLError(f"Cannot align '{path}' to the reference grid: {exc}") from exc
        self._vsimem.append(vrt)
        return ds, True

    # reading -----------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._band_map)

    def read(self, window: Window) -> np.ma.MaskedArray:
        """All bands of *window*: masked float32 array ``(count, height, width)`` (thread-safe)."""
        parts = []
        for i, ds in enumerate(self._thread_datasets()):
            bands = [b for (d, b) in self._band_map if d == i]
            if self.warped[i]:
                with self._lock:
                    parts.append(read_window(ds, window, bands))
            else:
                parts.append(read_window(ds, window, bands))
        return np.ma.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

    def _thread_datasets(self) -> list[gdal.Dataset]:
        """The datasets this thread reads: its own handles of unwarped files (opened on its first read;
        the first thread to read uses those opened with the stack) and the shared warped VRTs."""
        key = threading.get_ident()
        with self._lock:
            mine = self._handles.get(key)
            if mine is None:
                if not self._handles:  # the first reader uses the datasets opened by __init__
                    mine = list(self._datasets)
                else:
                    mine = [ds if warped else gdal.Open(ds.GetDescription(), gdal.GA_ReadOnly)
                            for ds, warped in zip(self._datasets, self.warped)]
                self._handles[key] = mine
        return mine

    def windows(self, block_size: int = DEFAULT_BLOCK) -> Iterable[Window]:
        return self.grid.windows(block_size)

    def sample(self, x: np.ndarray, y: np.ndarray, block_size: int = DEFAULT_BLOCK) -> np.ma.MaskedArray:
        """Values at points, read block by block.

        Returns a masked array ``(n_points, count)``; points outside the grid or on
        nodata are masked.
        """
        row, col, inside = self.grid.rowcol(x, y)
        n = len(row)
        values = np.full((n, self.count), np.nan, dtype=np.float32)
        mask = np.ones((n, self.count), dtype=bool)
        if inside.any():
            ids = np.flatnonzero(inside)
            br, bc = row[ids] // block_size, col[ids] // block_size
            for key in np.unique(br * (self.grid.width // block_size + 1) + bc):
                sel = ids[(br * (self.grid.width // block_size + 1) + bc) == key]
                r0 = (row[sel[0]] // block_size) * block_size
                c0 = (col[sel[0]] // block_size) * block_size
                c0, r0 = int(c0), int(r0)
                win = Window(c0, r0, min(block_size, self.grid.width - c0), min(block_size, self.grid.height - r0))
                block = self.read(win)
                rr, cc = row[sel] - r0, col[sel] - c0
                values[sel] = block.data[:, rr, cc].T
                mask[sel] = np.ma.getmaskarray(block)[:, rr, cc].T
        return np.ma.MaskedArray(values, mask=mask)

    def close(self) -> None:
        self._handles.clear()
        self._datasets.clear()
        self._sources.clear()
        self.__dict__.pop("_ref_ds", None)
        for vrt in self._vsimem:
            gdal.Unlink(vrt)
        self._vsimem.clear()

    def __enter__(self) -> "RasterStack":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
