"""Spectral libraries: labelled reference spectra with their wavelengths.

Sources: ENVI spectral libraries (``.sli`` + ``.hdr``: one spectrum per line,
``spectra names`` giving each spectrum's class), CSV tables (a wavelength column
plus one column per spectrum, the column header naming the class; repeated
headers are several spectra of one class), labelled pixels of a cube, and the
USGS splib07 ``.npz`` bundled with the plugin. Classes are numbered in their order
of first appearance: class 1 is the first name met.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import GeoMLError
from ..progress import warn
from . import envi


@dataclass
class SpectralLibrary:
    """Reference spectra.

    Attributes
    ----------
    wavelengths : ``(b,)`` float, nm, increasing
    spectra : ``(n, b)`` float, reflectance; NaN where a spectrum was not measured
    labels : list of n class names
    fwhm : ``(b,)`` float or None (nm)
    """

    wavelengths: np.ndarray
    spectra: np.ndarray
    labels: list[str]
    fwhm: np.ndarray | None = None
    source: str = ""
    classes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.wavelengths = np.asarray(self.wavelengths, float)
        self.spectra = np.atleast_2d(np.asarray(self.spectra, float))
        self.labels = [str(s).strip() for s in self.labels]
        if self.spectra.shape != (len(self.labels), self.wavelengths.size):
            raise GeoMLError(
                f"The library has {self.spectra.shape[0]} spectra of {self.spectra.shape[1]} values, "
                f"{len(self.labels)} names and {self.wavelengths.size} wavelengths: they must agree."
            )
        if any(not s for s in self.labels):
            raise GeoMLError("Every spectrum of the library needs a class name.")
        order = np.argsort(self.wavelengths)
        if np.any(np.diff(self.wavelengths[order]) == 0):
            raise GeoMLError("The library's wavelengths repeat a value.")
        self.wavelengths, self.spectra = self.wavelengths[order], self.spectra[:, order]
        if self.fwhm is not None:
            self.fwhm = np.asarray(self.fwhm, float)[order]
        self.classes = list(dict.fromkeys(self.labels))

    @property
    def y(self) -> np.ndarray:
        """Class index (0-based, in :attr:`classes` order) of each spectrum, ``(n,)``."""
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[s] for s in self.labels], np.int64)

    def require_classes(self, minimum: int = 2) -> None:
        if len(self.classes) < minimum:
            raise GeoMLError(
                f"The library holds {len(self.classes)} class ({', '.join(self.classes)}); a classifier needs at "
                f"least {minimum} different class names (spectra with the same name form one class)."
            )


def read_library(path: str | os.PathLike) -> SpectralLibrary:
    """Read an ENVI spectral library (``.sli``/``.hdr``) or a CSV table, by extension."""
    p = Path(path)
    if not p.exists():
        raise GeoMLError(f"Spectral library not found: {p}")
    if p.suffix.lower() in (".csv", ".txt"):
        return read_csv(p)
    hdr = envi.header_for(p)
    if hdr is None:
        raise GeoMLError(f"'{p.name}' is neither a CSV table nor an ENVI spectral library with a .hdr beside it.")
    return read_sli(hdr)


def read_sli(header: str | os.PathLike) -> SpectralLibrary:
    """An ENVI spectral library: ``samples`` = bands, ``lines`` = spectra."""
    hdr = Path(header)
    f = envi.read_header(hdr)
    name = hdr.name
    n_bands, n_spec = envi.int_field(f, "samples", name), envi.int_field(f, "lines", name)
    code = envi.int_field(f, "data type", name)
    if code not in envi.DTYPES:
        raise GeoMLError(f"ENVI data type {code} in '{name}' is not supported.")
    dtype = np.dtype(envi.DTYPES[code]).newbyteorder(">" if envi.int_field(f, "byte order", name, 0) else "<")
    data = envi.data_file(hdr)
    offset = envi.int_field(f, "header offset", name, 0)
    count = n_bands * n_spec
    raw = np.fromfile(data, dtype, count, offset=offset)
    if raw.size != count:
        raise GeoMLError(f"'{data.name}' holds {raw.size} values; its header announces {n_spec} spectra x {n_bands} bands.")
    spectra = raw.reshape(n_spec, n_bands).astype(float)
    ignore = f.get("data ignore value")
    if ignore not in (None, ""):
        spectra[spectra == float(ignore)] = np.nan
    wl = envi.float_list(f.get("wavelength"), "wavelength", n_bands)
    if wl is None:
        raise GeoMLError(f"The spectral library '{name}' has no 'wavelength' list in its header.")
    from .cube import to_nm

    units = f.get("wavelength units", "")
    wl_nm = to_nm(wl, units)
    fw = envi.float_list(f.get("fwhm"), "fwhm", n_bands)
    names = envi.str_list(f.get("spectra names"))
    if len(names) != n_spec:
        raise GeoMLError(f"The header '{name}' names {len(names)} spectra ('spectra names') for {n_spec} lines.")
    return SpectralLibrary(wl_nm, spectra, names, None if fw is None else fw * wl_nm[0] / wl[0], str(data))


def write_sli(path: str | os.PathLike, library: SpectralLibrary) -> None:
    """Write *library* as an ENVI spectral library (``path`` ends in ``.sli``; the ``.hdr`` goes beside it)."""
    p = Path(path)
    fields: dict[str, object] = {
        "description": "{GeoML spectral library}", "samples": library.wavelengths.size,
        "lines": len(library.labels), "bands": 1, "header offset": 0, "file type": "ENVI Spectral Library",
        "data type": 4, "interleave": "bsq", "byte order": 0, "wavelength units": "Nanometers",
        "wavelength": library.wavelengths, "spectra names": list(library.labels),
    }
    if library.fwhm is not None:
        fields["fwhm"] = library.fwhm
    np.asarray(library.spectra, "<f4").tofile(p)
    p.with_suffix(".hdr").write_text(envi.format_header(fields), encoding="utf-8")


def read_csv(path: str | os.PathLike) -> SpectralLibrary:
    """A CSV with a wavelength column (named ``wavelength...``/``wl``/``nm``/``um``, else the first) and one column per spectrum."""
    from ..io.vector import text_encoding

    p = Path(path)
    encoding, note = text_encoding(p)  # mineral names with accents from a Windows export survive
    if note:
        warn(note)
    with open(p, newline="", encoding=encoding) as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [r for r in csv.reader(fh, dialect) if any(c.strip() for c in r)]
    if len(rows) < 3:
        raise GeoMLError(f"'{p.name}' needs a header line and at least two wavelength rows.")
    header = [h.strip() for h in rows[0]]
    keys = [h.lower() for h in header]
    wl_col = next((i for i, h in enumerate(keys) if h.startswith("wavelength") or h in ("wl", "nm", "um", "lambda")), 0)
    fwhm_col = next((i for i, h in enumerate(keys) if h == "fwhm"), None)
    spec_cols = [i for i in range(len(header)) if i not in (wl_col, fwhm_col)]
    if not spec_cols:
        raise GeoMLError(f"'{p.name}' has a wavelength column but no spectrum columns.")
    try:
        table = np.array([[float(c) if c.strip() not in ("", "nan", "NaN", "NA") else np.nan for c in r] for r in rows[1:]])
    except ValueError as exc:
        raise GeoMLError(f"'{p.name}' holds a value that is not a number: {exc}.") from exc
    if table.ndim != 2 or table.shape[1] != len(header):
        raise GeoMLError(f"Every row of '{p.name}' must have {len(header)} values like its header.")
    from .cube import to_nm

    unit = "um" if "um" in keys[wl_col] or "micro" in keys[wl_col] else ("nm" if "nm" in keys[wl_col] else "")
    wl = to_nm(table[:, wl_col], unit)
    fwhm = None if fwhm_col is None else table[:, fwhm_col] * (wl[0] / table[0, wl_col])
    return SpectralLibrary(wl, table[:, spec_cols].T, [header[i] for i in spec_cols], fwhm, str(p))


def read_usgs_npz(path: str | os.PathLike, classes: Mapping[str, Sequence[str]] | None = None) -> SpectralLibrary:
    """The bundled USGS splib07 subset (arrays ``grid`` µm, ``spectra``, ``label``, ``rule``).

    *classes* maps a class name to the ``rule`` names of its spectra (in class
    order); by default every ``rule`` is its own class.
    """
    with np.load(path, allow_pickle=False) as d:
        grid, spectra, rule = d["grid"] * 1000.0, d["spectra"], [str(r) for r in d["rule"]]
    if classes is None:
        return SpectralLibrary(grid, spectra, rule, None, str(path))
    rows, labels = [], []
    for name, members in classes.items():
        for m in members:
            if m not in rule:
                raise GeoMLError(f"'{m}' is not in the USGS library {Path(path).name}.")
            rows.append(rule.index(m))
            labels.append(name)
    return SpectralLibrary(grid, spectra[rows], labels, None, str(path))


def labelled_pixels(cube, rows: np.ndarray, cols: np.ndarray, labels: Sequence[str]) -> SpectralLibrary:
    """Spectra of cube pixels at ``(rows, cols)`` with their class names, as a library on the cube's good bands.

    Pixels with any invalid band are dropped. Reads only the strips that hold labelled pixels.
    """
    from ..io.grid import Window

    rows, cols = np.asarray(rows, int), np.asarray(cols, int)
    labels = np.asarray([str(s) for s in labels], object)
    out_spec, out_lab = [], []
    for r in np.unique(rows):
        sel = rows == r
        pixels, valid = cube.read_pixels(Window(0, int(r), cube.width, 1))
        c = cols[sel]
        keep = valid[c]
        out_spec.append(pixels[c[keep]])
        out_lab.extend(labels[sel][keep])
    if not out_lab:
        raise GeoMLError("None of the labelled locations falls on a valid pixel of the training cube.")
    good = cube.good
    return SpectralLibrary(cube.wavelengths[good], np.concatenate(out_spec), list(out_lab), cube.fwhm[good], cube.name)
