"""Block-by-block GeoTIFF writing, atomic and styled.

:class:`BlockWriter` creates a tiled, compressed GeoTIFF under a temporary name
in the target folder, accepts blocks as they are computed, and on a clean exit
renames it into place with its provenance metadata and a ``.qml`` default
style. On an exception (cancellation included) the temporary file is removed.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from osgeo import gdal

from ..errors import GeoMLError
from ..progress import warn
from .atomic import atomic_path, move_into_place, remove_output, write_text_atomic
from .grid import Grid, Window
from .guards import check_output_size
from .style import RasterStyle, category_color

gdal.UseExceptions()

_GDAL_TYPES = {
    np.dtype("uint8"): gdal.GDT_Byte,
    np.dtype("int16"): gdal.GDT_Int16,
    np.dtype("uint16"): gdal.GDT_UInt16,
    np.dtype("int32"): gdal.GDT_Int32,
    np.dtype("float32"): gdal.GDT_Float32,
    np.dtype("float64"): gdal.GDT_Float64,
}

DEFAULT_NODATA = {"f": -9999.0, "i": -9999, "u": 0}
#: width and height of the GeoTIFF tiles (pixels)
TILE = 256


class BlockWriter:
    """Write a raster block by block.

    Parameters
    ----------
    path : path
        Final GeoTIFF path; a ``.qml`` style with the same stem is written beside it.
    grid : Grid
        Output grid (north-up; values at cell centres).
    count : int
        Number of bands.
    dtype : numpy dtype
        ``float32`` for continuous outputs, ``uint8``/``int16`` for classes.
    nodata : number, optional
        Value written where a block is masked (default -9999, or 0 for unsigned).
    band_names : sequence of str, optional
        Band descriptions.
    metadata : mapping, optional
        Dataset metadata (see :func:`~geoml_qgis.core.io.provenance.provenance`).
    style : RasterStyle, optional
        Default style. For continuous styles without ``vmin``/``vmax`` the range of
        written values is used; categorical styles also get a GDAL colour table
        and category names.
    interleave : ``"pixel"`` or ``"band"``
        GeoTIFF layout of several bands: ``"band"`` when bands are maps read one at a
        time (reading one then decompresses only that band).

    Examples
    --------
    >>> with BlockWriter("out.tif", grid) as w:          # doctest: +SKIP
    ...     for win in grid.windows():
    ...         w.write(win, compute(win))
    """

    def __init__(
        self,
        path: str | os.PathLike,
        grid: Grid,
        count: int = 1,
        dtype: str | np.dtype = "float32",
        nodata: float | None = None,
        band_names: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        style: RasterStyle | None = None,
        interleave: str = "pixel",
    ):
        self.path = Path(path)
        if self.path.suffix.lower() not in (".tif", ".tiff"):
            raise GeoMLError(f"Raster outputs are GeoTIFF files (.tif); got '{self.path.name}'.")
        self.grid = grid
        self.count = int(count)
        self.dtype = np.dtype(dtype)
        if self.dtype not in _GDAL_TYPES:
            raise GeoMLError(f"Unsupported output data type {self.dtype}.")
        self.nodata = DEFAULT_NODATA[self.dtype.kind] if nodata is None else nodata
        self.band_names = list(band_names or [])
        self.metadata = dict(metadata or {})
        self.style = style
        self.interleave = interleave
        self._min = np.full(self.count, np.inf)
        self._max = np.full(self.count, -np.inf)
        self._n = np.zeros(self.count)
        self._sum = np.zeros(self.count)
        self._sum2 = np.zeros(self.count)
        self._stack = contextlib.ExitStack()
        self._ds: gdal.Dataset | None = None

    def __enter__(self) -> "BlockWriter":
        check_output_size(self.path, self.grid.width, self.grid.height, self.count, self.dtype.itemsize)
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        opts = ["TILED=YES", f"BLOCKXSIZE={TILE}", f"BLOCKYSIZE={TILE}", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER",
                f"PREDICTOR={3 if self.dtype.kind == 'f' else 2}", "NUM_THREADS=ALL_CPUS",
                f"INTERLEAVE={self.interleave.upper()}"]
        if self.dtype.kind == "f":  # float mantissas barely compress: level 1 is as small (+1 %) in half the time
            opts.append("ZLEVEL=1")
        drv = gdal.GetDriverByName("GTiff")
        self._ds = drv.Create(self._tmp, self.grid.width, self.grid.height, self.count, _GDAL_TYPES[self.dtype], opts)
        self._ds.SetGeoTransform(self.grid.transform)
        if self.grid.crs_wkt:
            self._ds.SetProjection(self.grid.crs_wkt)
        for i in range(1, self.count + 1):
            band = self._ds.GetRasterBand(i)
            band.SetNoDataValue(self.nodata)
            if i <= len(self.band_names):
                band.SetDescription(self.band_names[i - 1])
        if self.style is not None and self.style.kind == "categorical" and self.dtype.kind in "ui":
            self._set_categories(self._ds.GetRasterBand(self.style.band))
        return self

    def _set_categories(self, band: gdal.Band) -> None:
        """Category names and, for unsigned bands, a colour table.

        Set before any block is written: libtiff 4.7 (GDAL 3.10) refuses to change the
        photometric interpretation of a tiled GeoTIFF whose blocks are already on disk.
        """
        top = max(self.style.classes, default=0)
        names = [""] * (top + 1)
        ct = gdal.ColorTable()
        for v, lbl in self.style.classes.items():
            names[int(v)] = str(lbl)
            h = category_color(int(v)).lstrip("#")
            ct.SetColorEntry(int(v), tuple(int(h[k:k + 2], 16) for k in (0, 2, 4)) + (255,))
        band.SetCategoryNames(names)
        if self.dtype.kind == "u" and self.dtype.itemsize <= 2:
            band.SetColorTable(ct)

    def write(self, window: Window, block: np.ndarray) -> None:
        """Write *block* ``(count, height, width)`` or ``(height, width)`` at *window*.

        Masked cells (masked arrays) and NaN become nodata.
        """
        if self._ds is None:
            raise RuntimeError("BlockWriter.write() outside its 'with' block")
        arr = np.ma.asarray(block)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.shape != (self.count, window.height, window.width):
            raise ValueError(f"block shape {arr.shape} does not match window {window} x {self.count} bands")
        mask = np.ma.getmaskarray(arr)
        data = self._float(arr.data)
        if self.dtype.kind == "f":
            mask = mask | ~np.isfinite(data)
        for i in range(self.count):
            self._write_band(window, i, data[i], mask[i])

    def write_band(self, window: Window, band: int, block: np.ndarray) -> None:
        """Write one band (0-based *band*) of *window* from ``(height, width)`` *block*, e.g. one
        realisation of a simulation at a time; NaN and masked cells become nodata."""
        if self._ds is None:
            raise RuntimeError("BlockWriter.write_band() outside its 'with' block")
        arr = np.ma.asarray(block)
        if arr.shape != (window.height, window.width) or not 0 <= band < self.count:
            raise ValueError(f"block shape {arr.shape} / band {band} do not match window {window} x {self.count} bands")
        data = self._float(arr.data)
        mask = np.ma.getmaskarray(arr)
        if self.dtype.kind == "f":
            mask = mask | ~np.isfinite(data)
        self._write_band(window, band, data, mask)

    def flush(self) -> None:
        """Compress and store the blocks written so far (in GDAL's threads; this waits for them).

        Call it when whole rows of tiles (:data:`TILE` rows, full width) are complete: compressing is then
        spread over the run instead of all left to the end. A tile stored half-written is stored again.
        """
        if self._ds is None:
            raise RuntimeError("BlockWriter.flush() outside its 'with' block")
        self._ds.FlushCache()

    def _float(self, data: np.ndarray) -> np.ndarray:
        """Values of a float output as float64, or as they are when already of the output's type (no copy)."""
        if self.dtype.kind != "f" or data.dtype == self.dtype:
            return data
        return data.astype(np.float64, copy=False)

    def _write_band(self, window: Window, i: int, data: np.ndarray, mask: np.ndarray) -> None:
        gaps = bool(mask.any())  # a block without gaps needs neither the copy of its valid cells nor nodata
        valid = data[~mask] if gaps else data.reshape(-1)
        if valid.size:
            self._min[i] = min(self._min[i], float(valid.min()))
            self._max[i] = max(self._max[i], float(valid.max()))
            self._n[i] += valid.size
            self._sum[i] += float(valid.sum(dtype=np.float64))
            self._sum2[i] += float(np.square(valid, dtype=np.float64).sum())
        out = (np.where(mask, self.nodata, data) if gaps else data).astype(self.dtype, copy=False)
        self._ds.GetRasterBand(i + 1).WriteArray(out, window.col_off, window.row_off)

    def __exit__(self, exc_type, exc, tb) -> None:
        error = exc
        if error is None:
            try:
                self._finish()
            except BaseException as err:  # noqa: BLE001 - re-raised below after clean-up
                error = err
        self._ds = None  # close the file before it is renamed or removed
        aux = Path(self._tmp + ".aux.xml")  # GDAL keeps category names there
        final_aux = Path(str(self.path) + ".aux.xml")
        if error is None:
            self._stack.close()  # renames the temporary file into place
            if aux.exists():
                move_into_place(aux, final_aux)
            else:
                remove_output(final_aux)  # stale sidecar of an earlier output
            if self.style is not None:
                write_text_atomic(self.path.with_suffix(".qml"), self._resolved_style().to_qml())
            return
        self._stack.__exit__(type(error), error, error.__traceback__)  # removes the temporary file
        aux.unlink(missing_ok=True)
        if error is not exc:
            raise error

    def _finish(self) -> None:
        ds = self._ds
        if not self._n.any():
            warn(f"The output {self.path.name} holds no value at all (every cell is nodata). Check that the "
                 "inputs overlap the output extent and share its CRS, and that the inputs have data there.")
        for i in range(self.count):
            band = ds.GetRasterBand(i + 1)
            if self._n[i]:
                mean = self._sum[i] / self._n[i]
                std = np.sqrt(max(self._sum2[i] / self._n[i] - mean * mean, 0.0))
                band.SetStatistics(self._min[i], self._max[i], mean, std)
        if self.metadata:
            ds.SetMetadata({k: str(v) for k, v in self.metadata.items()})
        ds.FlushCache()

    def _resolved_style(self) -> RasterStyle:
        s = self.style
        if s.kind == "continuous" and (s.vmin is None or s.vmax is None):
            i = s.band - 1
            lo = s.vmin if s.vmin is not None else (self._min[i] if np.isfinite(self._min[i]) else 0.0)
            hi = s.vmax if s.vmax is not None else (self._max[i] if np.isfinite(self._max[i]) else lo + 1)
            return RasterStyle(kind=s.kind, ramp=s.ramp, vmin=lo, vmax=hi, band=s.band)
        return s
