"""Shared plumbing of the borehole algorithms: layers into tables, samples out to a styled GeoPackage."""
from __future__ import annotations

import numpy as np
import pandas as pd
from qgis.core import QgsWkbTypes

from ..core.errors import Cancelled, GeoMLError
from ..core.io.vector import PointTable, write_points
from .qgisio import _py
from .styling import categorized, style_vector_output


def source_frame(source, what: str, feedback=None) -> tuple[pd.DataFrame, np.ndarray | None, str]:
    """All attributes of a layer or table, its point coordinates (n, 3) if it has points, and its CRS WKT."""
    if source is None:
        raise GeoMLError(f"The {what} could not be read.")
    names = [f.name() for f in source.fields()]
    points = source.wkbType() != QgsWkbTypes.NoGeometry and QgsWkbTypes.geometryType(source.wkbType()) == QgsWkbTypes.PointGeometry
    rows, xyz = [], []
    for feat in source.getFeatures():
        if feedback is not None and feedback.isCanceled():
            raise Cancelled("Cancelled by the user")
        rows.append([_py(v) for v in feat.attributes()])
        if points:
            geom = feat.geometry()
            if geom.isNull() or geom.isEmpty():
                xyz.append((np.nan, np.nan, np.nan))
                continue
            p = geom.constGet()
            if geom.isMultipart():
                p = p.geometryN(0)
            xyz.append((p.x(), p.y(), p.z() if p.is3D() else np.nan))
    if not rows:
        raise GeoMLError(f"The {what} is empty.")
    crs = source.sourceCrs().toWkt() if source.sourceCrs().isValid() else ""
    return pd.DataFrame(rows, columns=names), (np.array(xyz, float) if points else None), crs


def write_clusters(alg, context, parameters, name: str, frame: pd.DataFrame, crs_wkt: str, field: str,
                   labels: dict[int, str]) -> str:
    """Write *frame* (with x, y, z columns) as a PointZ GeoPackage styled by categories of *field*."""
    path = alg.parameterAsOutputLayer(parameters, name, context)
    if not path.lower().endswith(".gpkg"):
        raise GeoMLError(f"Save {name} as a GeoPackage (.gpkg) file; got '{path}'.")
    attrs = frame.drop(columns=["x", "y", "z"]).copy()
    for col in attrs.columns:
        if attrs[col].dtype == object:
            attrs[col] = attrs[col].astype(str)
    write_points(path, PointTable(frame["x"].to_numpy(float), frame["y"].to_numpy(float),
                                  frame["z"].to_numpy(float), attrs, crs_wkt))
    style_vector_output(alg, context, path, categorized(field, labels))
    return path
