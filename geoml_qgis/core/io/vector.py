"""Point layers and attribute tables: read into pandas, write GeoPackages atomically.

Tables come as CSV (``,`` or ``;``), XLSX, or any OGR vector source (GeoPackage,
shapefile); point coordinates come from the geometry or from X/Y(/Z) fields.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from osgeo import ogr

from ..errors import GeoMLError
from ..progress import warn
from .atomic import atomic_path, staged_path
from .crs import to_srs

ogr.UseExceptions()

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xls"}
#: text that means "no value" in real tables; becomes NaN, never a number
MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a"}


@dataclass
class PointTable:
    """Points with attributes.

    Attributes
    ----------
    x, y : ndarray of shape (n,)
    z : ndarray of shape (n,) or None
    attributes : DataFrame with n rows
    crs_wkt : str (empty when unknown)
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray | None
    attributes: pd.DataFrame
    crs_wkt: str = ""

    def __len__(self) -> int:
        return len(self.x)

    @property
    def xy(self) -> np.ndarray:
        """Coordinates, shape (n, 2)."""
        return np.column_stack([self.x, self.y])


def text_encoding(path: str | os.PathLike, sample_bytes: int = 4 << 20) -> tuple[str, str]:
    """The encoding of a text table: ``utf-8`` (with or without BOM), else ``cp1252``, else ``latin-1``.

    Returns ``(encoding, note)``; *note* is empty for UTF-8, otherwise a sentence for
    the log saying which encoding was assumed. Only the first *sample_bytes* are read;
    a multi-byte character cut at that boundary is not counted as an error.
    """
    with open(path, "rb") as fh:
        data = fh.read(sample_bytes + 1)
    cut = len(data) > sample_bytes
    data = data[:sample_bytes]
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", ""
    try:
        data.decode("utf-8")
        return "utf-8", ""
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:
            return "utf-8", ""
    name = Path(path).name
    try:
        data.decode("cp1252")
        return "cp1252", (f"'{name}' is not UTF-8; read as Windows-1252 (Western European). If names look wrong, "
                          "save the file as UTF-8.")
    except UnicodeDecodeError:
        return "latin-1", f"'{name}' is not UTF-8; read as Latin-1. If names look wrong, save the file as UTF-8."


def read_table(path: str | os.PathLike, layer: str | int | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a table (CSV, XLSX or an OGR layer's attributes) into a DataFrame.

    CSV files are read in *encoding*, or in the one :func:`text_encoding` detects
    (UTF-8, then Windows-1252/Latin-1 with a warning), so accented names survive.
    """
    p = Path(staged_path(path))
    if not p.exists():
        raise GeoMLError(f"Table not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            if encoding is None:
                encoding, note = text_encoding(p)
                if note:
                    warn(note)
            return pd.read_csv(p, sep=None, engine="python", encoding=encoding)  # sniffs ',' or ';'
        if suffix in (".xlsx", ".xls"):
            return pd.read_excel(p, sheet_name=layer if layer is not None else 0)
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise GeoMLError(f"Cannot read the table '{p.name}': {exc}") from exc
    return read_points(p, layer=layer, geometry_optional=True).attributes


def read_points(
    path: str | os.PathLike,
    layer: str | int | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    z_field: str | None = None,
    crs: str | None = None,
    geometry_optional: bool = False,
) -> PointTable:
    """Read points from a vector layer, or from X/Y(/Z) fields of any table.

    Multi-points are not accepted; the Z of the geometry is used when present and
    no *z_field* is given.
    """
    p = Path(staged_path(path))
    if p.suffix.lower() in TABLE_SUFFIXES:
        if not (x_field and y_field):
            raise GeoMLError(f"'{p.name}' is a table without geometry: choose its X and Y fields.")
        df = read_table(p, layer)
        return points_from_fields(df, x_field, y_field, z_field, crs or "")
    try:
        ds = ogr.Open(str(p))
    except RuntimeError as exc:
        raise GeoMLError(f"Cannot open '{p}' as a vector layer: {exc}") from exc
    if ds is None:
        raise GeoMLError(f"Cannot open '{p}' as a vector layer.")
    lyr = ds.GetLayer(layer if layer is not None else 0)
    if lyr is None:
        raise GeoMLError(f"Layer '{layer}' not found in '{p.name}'.")
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    rows, xs, ys, zs = [], [], [], []
    for feat in lyr:
        rows.append([feat.GetField(i) for i in range(len(names))])
        geom = feat.GetGeometryRef()
        if geom is None or geom.IsEmpty():
            xs.append(np.nan), ys.append(np.nan), zs.append(np.nan)
            continue
        if geom.GetGeometryType() not in (ogr.wkbPoint, ogr.wkbPoint25D, ogr.wkbPointM, ogr.wkbPointZM):
            raise GeoMLError(f"'{p.name}' holds {geom.GetGeometryName()} geometries; a point layer is needed.")
        xs.append(geom.GetX()), ys.append(geom.GetY()), zs.append(geom.GetZ() if geom.Is3D() else np.nan)
    df = pd.DataFrame(rows, columns=names)
    srs = lyr.GetSpatialRef()
    crs_wkt = srs.ExportToWkt() if srs is not None else (crs or "")
    if x_field and y_field:
        return points_from_fields(df, x_field, y_field, z_field, crs_wkt)
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    if not geometry_optional and (len(x) == 0 or np.isnan(x).all()):
        raise GeoMLError(f"'{p.name}' has no point geometries; choose X and Y fields instead.")
    z = numeric_column(df, z_field) if z_field else (np.asarray(zs, float) if np.isfinite(zs).any() else None)
    return PointTable(x, y, z, df, crs_wkt)


def points_from_fields(df: pd.DataFrame, x_field: str, y_field: str, z_field: str | None = None, crs_wkt: str = "") -> PointTable:
    """Points whose coordinates are fields of *df*."""
    x, y = numeric_column(df, x_field), numeric_column(df, y_field)
    z = numeric_column(df, z_field) if z_field else None
    return PointTable(x, y, z, df, crs_wkt)


def numeric_column(df: pd.DataFrame, name: str) -> np.ndarray:
    """Column *name* as float64; blanks become NaN, other text is an error naming the rows."""
    if name not in df.columns:
        raise GeoMLError(f"Field '{name}' not found; available fields: {', '.join(map(str, df.columns))}.")
    col = df[name]
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna() & ~col.astype(str).str.strip().str.lower().isin(MISSING_TOKENS)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:5])
        raise GeoMLError(
            f"Field '{name}' holds text that is not a number (e.g. '{col[bad].iloc[0]}' in row {rows}). "
            "Fix or remove those values first."
        )
    return values.to_numpy(dtype=float)


_OGR_TYPES = {"i": ogr.OFTInteger64, "u": ogr.OFTInteger64, "f": ogr.OFTReal, "b": ogr.OFTInteger}


def write_points(
    path: str | os.PathLike,
    points: PointTable,
    layer_name: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Write points (PointZ when ``points.z`` is set) to a new GeoPackage, atomically."""
    target = Path(path)
    if target.suffix.lower() != ".gpkg":
        raise GeoMLError(f"Point outputs are GeoPackages (.gpkg); got '{target.name}'.")
    df = points.attributes if columns is None else points.attributes[list(columns)]
    srs = to_srs(points.crs_wkt)
    with atomic_path(target) as tmp:
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
        gtype = ogr.wkbPoint25D if points.z is not None else ogr.wkbPoint
        lyr = ds.CreateLayer(layer_name or target.stem, srs=srs, geom_type=gtype)
        for name in df.columns:
            kind = df[name].dtype.kind
            lyr.CreateField(ogr.FieldDefn(str(name), _OGR_TYPES.get(kind, ogr.OFTString)))
        defn = lyr.GetLayerDefn()
        lyr.StartTransaction()
        for i, row in enumerate(df.itertuples(index=False)):
            feat = ogr.Feature(defn)
            for j, value in enumerate(row):
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    feat.SetFieldNull(j)
                elif isinstance(value, (np.integer, int, bool, np.bool_)):
                    feat.SetField(j, int(value))
                elif isinstance(value, (np.floating, float)):
                    feat.SetField(j, float(value))
                else:
                    feat.SetField(j, str(value))
            geom = ogr.Geometry(gtype)
            if points.z is not None:
                geom.AddPoint(float(points.x[i]), float(points.y[i]), float(points.z[i]))
            else:
                geom.AddPoint_2D(float(points.x[i]), float(points.y[i]))
            feat.SetGeometry(geom)
            lyr.CreateFeature(feat)
        lyr.CommitTransaction()
        ds = None  # noqa: F841 - closes the GeoPackage before the rename
