"""Inputs matched by meaning, not by position.

A model stores the names of the rasters (bands) it was trained on, with the CRS
and the range of values it saw. At prediction the given rasters are put in the
trained order by name, or refused naming what differs; values far outside the
trained range are warned about (other units, another variable).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import GeoMLError
from ..progress import warn
from .raster import band_names, open_raster


def raster_band_names(paths: Sequence[str | os.PathLike]) -> list[list[str]]:
    """Band names of each raster (descriptions, else the file stem), as :class:`RasterStack` names them."""
    out = []
    for p in paths:
        ds = open_raster(p)
        out.append(band_names(ds, Path(p).stem))
        ds = None
    return out


def order_by_name(expected: Sequence[str], paths: Sequence[str | os.PathLike], what: str = "covariate") -> list[str]:
    """*paths* reordered so that their bands' names run as *expected*; refuse what differs.

    Raises :class:`GeoMLError` naming the missing and the unexpected names when the
    given rasters are not the trained ones.
    """
    expected = list(expected)
    names = raster_band_names(paths)
    given = [n for group in names for n in group]
    if given == expected:
        return [str(p) for p in paths]
    missing = [n for n in expected if n not in given]
    extra = [n for n in given if n not in expected]
    if not missing and not extra and len(given) == len(expected):
        by_first = {group[0]: (str(p), group) for p, group in zip(paths, names)}
        ordered, flat = [], []
        for name in expected:
            if name in by_first and name not in flat:
                p, group = by_first[name]
                ordered.append(p)
                flat.extend(group)
        if flat == expected:
            warn(f"The {what} rasters were given in another order than at training; they were matched by name "
                 f"({', '.join(expected)}).")
            return ordered
    detail = []
    if missing:
        detail.append(f"missing: {', '.join(missing)}")
    if extra:
        detail.append(f"not in the model: {', '.join(extra)}")
    if not detail:
        detail.append(f"given in the order {', '.join(given)}, which bands of one file cannot be reordered")
    raise GeoMLError(
        f"The model was trained with {len(expected)} {what} raster(s) ({', '.join(expected) or 'none'}); the given "
        "ones differ "
        f"({'; '.join(detail)}). Give the same {what}s (matched by file name or band description)."
    )


def value_ranges(values: np.ndarray) -> list[list[float]]:
    """Per-column ``[min, max]`` of *values* ``(n, p)`` ignoring NaN (stored in model metadata)."""
    v = np.asarray(values, float)
    return [[float(np.nanmin(c)), float(np.nanmax(c))] for c in v.T]


def warn_outside_range(names: Sequence[str], trained: Sequence[Sequence[float]], paths: Sequence[str | os.PathLike],
                       what: str = "covariate") -> list[str]:
    """Warn for each raster band whose values lie wholly far outside the trained range; returns their names."""
    flagged, i = [], 0
    for p in paths:
        ds = open_raster(p)
        for b in range(1, ds.RasterCount + 1):
            if i >= len(trained):
                break
            lo, hi = trained[i]
            band = ds.GetRasterBand(b)
            arr = band.ReadAsArray(buf_xsize=min(ds.RasterXSize, 256), buf_ysize=min(ds.RasterYSize, 256)).astype(float)
            nodata = band.GetNoDataValue()
            arr = arr[np.isfinite(arr) & ((arr != nodata) if nodata is not None else True)]
            if not arr.size:
                i += 1
                continue
            smin, smax = float(arr.min()), float(arr.max())
            span = max(hi - lo, abs(hi), abs(lo), 1e-12)
            if smax < lo - span or smin > hi + span:
                flagged.append(names[i])
                warn(f"The {what} '{names[i]}' ({Path(p).name}) holds {smin:g} to {smax:g}, far outside the {lo:g} to "
                     f"{hi:g} seen in training: other units (m or km, % or ppm) or another variable? The prediction "
                     "extrapolates there.")
            i += 1
        ds = None
    return flagged
