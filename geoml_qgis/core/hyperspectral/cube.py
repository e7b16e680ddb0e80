"""Hyperspectral cubes on disk (ENVI or GeoTIFF), read strip by strip with their band wavelengths.

ENVI files (``.hdr`` + raw data, BSQ/BIL/BIP) are read directly with
``numpy.fromfile`` so a strip of full rows is one contiguous read, or memory-mapped
to read only some of the bands (:meth:`Cube.read_bands`); other formats (GeoTIFF) go
through GDAL. Georeferencing always comes from GDAL. Wavelengths and
FWHM are converted to nanometres; bands flagged bad (ENVI ``bbl``) are left out of
every computation; nodata values and NaN mark invalid pixels.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Iterator

import numpy as np
from osgeo import gdal

from ..errors import GeoMLError
from ..io.grid import Grid, Window
from ..io.writer import TILE
from . import envi

gdal.UseExceptions()

NO_WAVELENGTHS_HELP = (
    "Provide them: for an ENVI cube add to its .hdr the lines 'wavelength = {450.1, 460.2, ...}' "
    "(one per band), 'wavelength units = Nanometers' and, if known, 'fwhm = {...}'; for a GeoTIFF run "
    "gdal_edit.py -mo \"wavelength=450.1,460.2,...\" -mo \"wavelength_units=nm\" [-mo \"fwhm=...\"] cube.tif"
)


NM_PER_UNIT = {"micrometers": 1000.0, "micrometer": 1000.0, "microns": 1000.0, "micron": 1000.0, "um": 1000.0,
               "µm": 1000.0, "micrometres": 1000.0, "nanometers": 1.0, "nanometer": 1.0, "nm": 1.0, "nanometres": 1.0}


def to_nm(values: np.ndarray, units: str) -> np.ndarray:
    """Wavelengths in nanometres from values in *units* (guessed from the magnitude when not stated)."""
    u = units.strip().lower()
    if u in NM_PER_UNIT:
        return values * NM_PER_UNIT[u]
    if u in ("wavenumber", "ghz", "mhz", "index"):
        raise GeoMLError(f"Wavelength units '{units}' are not supported; give them in nanometres or micrometres.")
    return values * 1000.0 if np.nanmax(values) < 30 else values


def _grid(path: Path, width: int, height: int) -> Grid:
    try:
        ds = gdal.Open(str(path))
        transform, wkt = ds.GetGeoTransform(), ds.GetProjection() or ""
        ds = None
    except RuntimeError:
        transform, wkt = (0.0, 1.0, 0.0, 0.0, 0.0, 1.0), ""
    if transform[2] != 0 or transform[4] != 0 or transform[5] >= 0:
        # no map information: a pixel grid with row 0 at the top
        transform, wkt = (0.0, 1.0, 0.0, float(height), 0.0, -1.0), ""
    return Grid(width, height, transform, wkt)


class Cube:
    """A hyperspectral image: ``height x width`` pixels of ``n_bands`` bands.

    Attributes
    ----------
    wavelengths, fwhm : ``(n_bands,)`` float arrays, nm (``fwhm`` defaults to the band spacing)
    bad : ``(n_bands,)`` bool, bands flagged bad in the metadata or found empty
    grid : :class:`~geoml_qgis.core.io.Grid`

    Unless *check* is False, a sample of the cube is checked to hold plausible spectra
    (:func:`~geoml_qgis.core.hyperspectral.plausibility.check_plausible`): a header with
    the wrong byte order or interleave is refused with the likely cause.
    """

    def __init__(self, path: str | os.PathLike, check: bool = True):
        p = Path(path)
        self._lock = threading.Lock()
        self._local = threading.local()  # each reading thread's raw buffer
        self._mm: np.memmap | None = None
        if not p.exists():
            raise GeoMLError(f"Cube not found: {p}")
        hdr = envi.header_for(p)
        if hdr is not None:
            self._open_envi(hdr)
        else:
            self._open_gdal(p)
        self.grid = _grid(self._data_path, self.width, self.height)
        if self.wavelengths is None:
            raise GeoMLError(f"The cube '{p.name}' carries no band wavelengths. {NO_WAVELENGTHS_HELP}")
        if self.wavelengths.size != self.n_bands:
            raise GeoMLError(f"The cube '{p.name}' has {self.n_bands} bands but {self.wavelengths.size} wavelengths.")
        order_ok = np.all(np.diff(self.wavelengths) > 0)
        if not order_ok:
            raise GeoMLError(f"The wavelengths of '{p.name}' do not increase from band to band.")
        if self.fwhm is None or self.fwhm.size != self.n_bands or np.any(~(self.fwhm > 0)):
            from .resample import default_fwhm

            self.fwhm = default_fwhm(self.wavelengths)
        if self.bad.all():
            raise GeoMLError(f"Every band of '{p.name}' is flagged bad.")
        self.name = p.name
        if check:
            from .plausibility import check_plausible

            check_plausible(self)

    # opening -----------------------------------------------------------------
    def _open_envi(self, hdr: Path) -> None:
        f = envi.read_header(hdr)
        name = hdr.name
        self._data_path = envi.data_file(hdr)
        self.width = envi.int_field(f, "samples", name)
        self.height = envi.int_field(f, "lines", name)
        self.n_bands = envi.int_field(f, "bands", name)
        code = envi.int_field(f, "data type", name)
        if code not in envi.DTYPES:
            raise GeoMLError(f"ENVI data type {code} in '{name}' is not supported (complex data?).")
        self._dtype = np.dtype(envi.DTYPES[code]).newbyteorder(">" if envi.int_field(f, "byte order", name, 0) else "<")
        self._interleave = f.get("interleave", "bsq").strip().lower()
        if self._interleave not in ("bsq", "bil", "bip"):
            raise GeoMLError(f"Unknown ENVI interleave '{self._interleave}' in '{name}'.")
        self._offset = envi.int_field(f, "header offset", name, 0)
        need = self._offset + self.width * self.height * self.n_bands * self._dtype.itemsize
        if self._data_path.stat().st_size < need:
            raise GeoMLError(
                f"'{self._data_path.name}' is smaller than its header says ({self._data_path.stat().st_size} "
                f"bytes instead of {need}): the header or the data file is damaged."
            )
        wl = envi.float_list(f.get("wavelength"), "wavelength", self.n_bands)
        units = f.get("wavelength units", "")
        self.wavelengths = None if wl is None else to_nm(wl, units)
        fw = envi.float_list(f.get("fwhm"), "fwhm", self.n_bands)
        self.fwhm = None if fw is None or wl is None else fw * (self.wavelengths[0] / wl[0])
        bbl = envi.float_list(f.get("bbl"), "bbl (bad band list)", self.n_bands)
        self.bad = np.zeros(self.n_bands, bool) if bbl is None else bbl == 0
        ignore = f.get("data ignore value")
        self.nodata = float(ignore) if ignore not in (None, "") else None
        self._ds = None

    def _open_gdal(self, path: Path) -> None:
        try:
            ds = gdal.Open(str(path))
        except RuntimeError as exc:
            raise GeoMLError(f"GDAL cannot read '{path.name}' as a raster: {exc}") from exc
        self._ds, self._data_path = ds, path
        self.width, self.height, self.n_bands = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
        meta = {k.lower(): v for k, v in (ds.GetMetadata() or {}).items()}
        meta.update({k.lower(): v for k, v in (ds.GetMetadata("ENVI") or {}).items()})
        bands = [ds.GetRasterBand(i + 1) for i in range(self.n_bands)]
        bmeta = [{k.lower(): v for k, v in (b.GetMetadata() or {}).items()} for b in bands]

        dataset_units = meta.get("wavelength_units", meta.get("wavelength units", ""))

        def per_band(key: str) -> tuple[np.ndarray | None, str]:
            """Values of *key* for every band, with their wavelength units: band items first (GDAL's
            convention, e.g. an ENVI cube converted with gdal_translate), then a dataset-level list."""
            if all(key in m for m in bmeta):
                values = envi.float_list(",".join(m[key] for m in bmeta), key, self.n_bands)
                return values, bmeta[0].get("wavelength_units", dataset_units)
            return envi.float_list(meta.get(key), key, self.n_bands), dataset_units

        wl, units = per_band("wavelength")
        self.wavelengths = None if wl is None else to_nm(wl, units)
        fw, fw_units = per_band("fwhm")
        if fw is None or wl is None:
            self.fwhm = None
        elif fw_units.strip().lower() in NM_PER_UNIT:
            self.fwhm = fw * NM_PER_UNIT[fw_units.strip().lower()]
        else:  # units not stated: the wavelengths' scale
            self.fwhm = fw * (self.wavelengths[0] / wl[0])
        bbl, _ = per_band("bbl")
        self.bad = np.zeros(self.n_bands, bool) if bbl is None else bbl == 0
        nd = bands[0].GetNoDataValue()
        self.nodata = None if nd is None else float(nd)

    # reading -----------------------------------------------------------------
    @property
    def good(self) -> np.ndarray:
        """Indices of the bands used (not flagged bad)."""
        return np.flatnonzero(~self.bad)

    def strips(self, max_pixels: int = 65536) -> Iterator[Window]:
        """Full-width windows of whole rows, about *max_pixels* each (at least one row), top to bottom,
        ending on an output raster's rows of tiles: a multiple of :data:`~..io.writer.TILE` rows, or the
        largest power of 2 (which divides it) below, so that each completed row of tiles can be stored
        while the next strips are computed."""
        rows = max(1, max_pixels // self.width)
        rows = rows // TILE * TILE if rows >= TILE else 1 << (rows.bit_length() - 1)
        for r in range(0, self.height, rows):
            yield Window(0, r, self.width, min(rows, self.height - r))

    def read_pixels(self, window: Window, bands: np.ndarray | None = None,
                    reuse: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Spectra of *window* as rows.

        Returns ``(pixels, valid)``: float32 ``(height*width, n)`` for the given band
        indices (0-based; default :attr:`good`) in row-major pixel order, and
        ``(height*width,)`` bool, False where any of those bands is NaN or nodata. Several threads
        may call this at once. *reuse*: the pixels of a BIL file go into this thread's buffer, valid
        until the thread's next read with *reuse* (for strip workers done with a strip before the next).
        """
        idx = self.good if bands is None else np.asarray(bands)
        if self._ds is not None:
            with self._lock:  # a GDAL dataset serves one thread at a time
                arr = self._ds.ReadAsArray(window.col_off, window.row_off, window.width, window.height,
                                           band_list=[int(b) + 1 for b in idx], buf_type=gdal.GDT_Float32)
            arr = arr.reshape(len(idx), -1)
            pixels = np.ascontiguousarray(arr.T)
        else:
            pixels = self._read_raw(window, idx, reuse)
        valid = np.isfinite(pixels).all(axis=1)
        if self.nodata is not None:
            valid &= ~(pixels == np.float32(self.nodata)).any(axis=1)
        return pixels, valid

    def read_bands(self, window: Window, bands: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Spectra of *window* band by band, as cubes are stored and feature maps computed.

        Returns ``(values, valid)``: float32 ``(n, height*width)`` for the *n* given band indices
        (0-based; default :attr:`good`) in row-major pixel order, and ``(height*width,)`` bool as in
        :meth:`read_pixels`. Only the given bands are read (an ENVI file is memory-mapped) and pixels
        are not transposed. Several threads may call this at once.
        """
        idx = np.asarray(self.good if bands is None else bands, np.int64)
        if self._ds is not None:
            with self._lock:  # a GDAL dataset serves one thread at a time
                arr = self._ds.ReadAsArray(window.col_off, window.row_off, window.width, window.height,
                                           band_list=[int(b) + 1 for b in idx], buf_type=gdal.GDT_Float32)
            values = arr.reshape(len(idx), -1)
        else:
            values = self._read_mapped(window, idx)
        return values, self._valid_bands(values)

    def _read_mapped(self, window: Window, idx: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._mm is None:
                shape = {"bsq": (self.n_bands, self.height, self.width), "bil": (self.height, self.n_bands, self.width),
                         "bip": (self.height, self.width, self.n_bands)}[self._interleave]
                self._mm = np.memmap(self._data_path, self._dtype, "r", self._offset, shape)
            mm = self._mm
        rows = slice(window.row_off, window.row_off + window.height)
        cols = slice(window.col_off, window.col_off + window.width)
        out = np.empty((len(idx), window.height, window.width), np.float32)
        if self._interleave == "bip":
            out[:] = np.moveaxis(mm[rows, cols][..., idx], -1, 0)
            return out.reshape(len(idx), -1)
        cuts = np.flatnonzero(np.diff(idx) != 1) + 1  # runs of consecutive bands: one copy each
        for k0, k1 in zip([0, *cuts], [*cuts, len(idx)]):
            run = slice(int(idx[k0]), int(idx[k1 - 1]) + 1)
            out[k0:k1] = mm[run, rows, cols] if self._interleave == "bsq" else mm[rows, run, cols].swapaxes(0, 1)
        return out.reshape(len(idx), -1)

    def _valid_bands(self, values: np.ndarray) -> np.ndarray:
        """Pixels (columns of ``(n, m)`` *values*) with no NaN, infinite or nodata value."""
        with np.errstate(over="ignore", invalid="ignore"):
            valid = np.isfinite(np.add.reduce(values, axis=0))  # NaN and infinity carry through the sum
        if not valid.all():  # or a sum of large values overflows: look at those pixels band by band
            odd = np.flatnonzero(~valid)
            valid[odd] = np.isfinite(values[:, odd]).all(axis=0)
        if self.nodata is not None:
            valid &= ~(values == np.float32(self.nodata)).any(axis=0)
        return valid

    def _read_raw(self, window: Window, idx: np.ndarray, reuse: bool = False) -> np.ndarray:
        w, b, r0, n = self.width, self.n_bands, window.row_off, window.height
        cols = slice(window.col_off, window.col_off + window.width)
        size = self._dtype.itemsize
        with open(self._data_path, "rb") as fh:
            if self._interleave == "bsq":
                out = np.empty((window.height * window.width, len(idx)), np.float32)
                for k, band in enumerate(idx):
                    fh.seek(self._offset + (int(band) * self.height + r0) * w * size)
                    arr = np.fromfile(fh, self._dtype, n * w).reshape(n, w)[:, cols]
                    out[:, k] = arr.reshape(-1)
                return out
            fh.seek(self._offset + r0 * w * b * size)
            if self._interleave == "bil":  # copied out line by line below: the thread's buffer is reused
                raw = self._buffer("raw", n * w * b, self._dtype)
                raw = raw[:fh.readinto(raw) // size]  # a short file fails below, as np.fromfile's short read did
            else:  # BIP: the pixels may be returned as they were read, without a copy
                raw = np.fromfile(fh, self._dtype, n * w * b)
        full = len(idx) == b and np.array_equal(idx, np.arange(b))
        if self._interleave == "bil":  # row by row: bands picked as whole lines, then one cache-sized transpose
            lines = raw.reshape(n, b, w)
            shape = (n, window.width, len(idx))
            out = self._buffer("pixels", n * window.width * len(idx), np.float32).reshape(shape) if reuse \
                else np.empty(shape, np.float32)
            for i in range(n):
                out[i] = (lines[i] if full else lines[i, idx])[:, cols].T
            return out.reshape(-1, len(idx))
        arr = raw.reshape(n, w, b)[:, cols, :]
        sel = arr if full else arr[..., idx]
        return np.ascontiguousarray(sel.reshape(-1, len(idx)), dtype=np.float32)

    def _buffer(self, name: str, size: int, dtype: np.dtype) -> np.ndarray:
        """This thread's buffer *name* of *size* values, kept from strip to strip: a fresh array of a
        strip's size (tens of MB) costs page faults every strip, which concurrent threads serialise on."""
        nbytes = size * np.dtype(dtype).itemsize
        buf = getattr(self._local, name, None)
        if buf is None or buf.size < nbytes:
            buf = np.empty(nbytes, np.uint8)
            setattr(self._local, name, buf)
        return buf[:nbytes].view(dtype)  # bytes: the cube read with another data type shares it

    def find_empty_bands(self, n_rows: int = 8) -> np.ndarray:
        """Good bands with no valid value on *n_rows* rows spread over the cube (e.g. all-NaN water bands).

        Returns their 0-based indices; callers add them to :attr:`bad`.
        """
        rows = np.unique(np.linspace(0, self.height - 1, min(n_rows, self.height)).astype(int))
        seen = np.zeros(len(self.good), bool)
        for r in rows:
            pixels, _ = self.read_pixels(Window(0, int(r), self.width, 1))
            ok = np.isfinite(pixels)
            if self.nodata is not None:
                ok &= pixels != np.float32(self.nodata)
            seen |= ok.any(axis=0)
        return self.good[~seen]

    def close(self) -> None:
        self._ds = None
        self._mm = None
        self._local = threading.local()

    def __enter__(self) -> "Cube":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_envi(
    path: str | os.PathLike,
    grid: Grid,
    wavelengths: np.ndarray,
    fwhm: np.ndarray | None = None,
    interleave: str = "bil",
    description: str = "",
    bbl: np.ndarray | None = None,
) -> "EnviWriter":
    """An :class:`EnviWriter` for a float32 ENVI cube (``path`` is the data file; ``.hdr`` beside it)."""
    return EnviWriter(path, grid, wavelengths, fwhm, interleave, description, bbl)


class EnviWriter:
    """Write a float32 ENVI cube strip by strip (top to bottom, full-width rows)."""

    def __init__(self, path, grid, wavelengths, fwhm=None, interleave="bil", description="", bbl=None):
        if interleave not in ("bil", "bip"):
            raise GeoMLError("Strip-wise writing supports the 'bil' and 'bip' interleaves.")
        self.path, self.grid, self.interleave = Path(path), grid, interleave
        self.n_bands = len(wavelengths)
        x0, dx, _, y0, _, dy = grid.transform
        fields: dict[str, object] = {
            "description": "{" + re.sub(r"[{}]", "", description) + "}",
            "samples": grid.width, "lines": grid.height, "bands": self.n_bands, "header offset": 0,
            "file type": "ENVI Standard", "data type": 4, "interleave": interleave, "byte order": 0,
            "map info": f"{{Arbitrary, 1, 1, {x0!r}, {y0!r}, {dx!r}, {-dy!r}, 0, North=0}}",
            "wavelength units": "Nanometers", "wavelength": [float(v) for v in wavelengths],
        }
        if grid.crs_wkt:
            fields["coordinate system string"] = "{" + grid.crs_wkt + "}"
        if fwhm is not None:
            fields["fwhm"] = [float(v) for v in fwhm]
        if bbl is not None:
            fields["bbl"] = [int(v) for v in bbl]
        self._header = envi.format_header(fields)
        self._rows = 0

    def __enter__(self) -> "EnviWriter":
        self._fh = open(self.path, "wb")
        return self

    def write_rows(self, block: np.ndarray) -> None:
        """Write rows ``(n_rows, width, n_bands)`` below those already written."""
        arr = np.asarray(block, np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (self.grid.width, self.n_bands):
            raise ValueError(f"expected (rows, {self.grid.width}, {self.n_bands}), got {arr.shape}")
        if self.interleave == "bil":
            arr = arr.transpose(0, 2, 1)
        np.ascontiguousarray(arr, dtype="<f4").tofile(self._fh)
        self._rows += arr.shape[0]

    def __exit__(self, exc_type, exc, tb) -> None:
        self._fh.close()
        if exc_type is None and self._rows != self.grid.height:
            exc_type = ValueError
        if exc_type is not None:
            self.path.unlink(missing_ok=True)
            if exc is None:
                raise ValueError(f"wrote {self._rows} rows of {self.grid.height}")
            return
        self.path.with_suffix(".hdr").write_text(self._header, encoding="utf-8")
