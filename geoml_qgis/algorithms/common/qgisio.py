"""Moving data between QGIS layers and the core's plain structures.

Used by the algorithms only (it imports qgis). Features are read in the
algorithm's thread; core code never sees a QGIS object.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from qgis.core import (
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPoint,
    QgsProcessingFeedback,
)

from ...compat import FAST_INSERT, WKB_POINT, WKB_POINT_Z, has_geometry, is_null, is_point_source, new_field
from ...core.errors import Cancelled, GeoMLError
from ...core.io.vector import PointTable, numeric_column


def _py(value):
    """QVariant NULL and Qt types to plain Python."""
    return None if is_null(value) else value


def source_to_points(
    source,
    fields: Sequence[str] | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    z_field: str | None = None,
    feedback: QgsProcessingFeedback | None = None,
    require_coordinates: bool = True,
) -> PointTable:
    """Read a point layer, or a table with X/Y fields, into a :class:`PointTable`.

    *fields* limits the attributes read (all by default). Z comes from *z_field*,
    else from 3D geometries. Features without geometry get NaN coordinates; so does a
    whole table without geometry or X/Y fields when *require_coordinates* is False
    (attribute-only inputs such as training tables).
    """
    if source is None:
        raise GeoMLError("The input layer could not be read.")
    all_names = [f.name() for f in source.fields()]
    names = list(all_names if fields is None else dict.fromkeys([*fields, *(f for f in (x_field, y_field, z_field) if f)]))
    missing = [n for n in names if n not in all_names]
    if missing:
        raise GeoMLError(f"Field(s) {', '.join(missing)} not found in the input layer.")
    idx = [all_names.index(n) for n in names]
    geometric = has_geometry(source) and not (x_field and y_field)
    if geometric and not is_point_source(source):
        raise GeoMLError("The input layer must hold points.")
    total = max(source.featureCount(), 1)
    rows, xs, ys, zs = [], [], [], []
    for i, feat in enumerate(source.getFeatures()):
        if feedback is not None and feedback.isCanceled():
            raise Cancelled("Cancelled by the user")
        attrs = feat.attributes()
        rows.append([_py(attrs[j]) for j in idx])
        if geometric:
            geom = feat.geometry()
            if geom.isNull() or geom.isEmpty():
                xs.append(np.nan), ys.append(np.nan), zs.append(np.nan)
                continue
            if geom.isMultipart():
                parts = geom.asGeometryCollection()
                if len(parts) != 1:
                    raise GeoMLError("The input layer holds multi-points; split them first (Multipart to singleparts).")
                geom = parts[0]
            p = geom.constGet()
            xs.append(p.x()), ys.append(p.y()), zs.append(p.z() if p.is3D() else np.nan)
        if feedback is not None and i % 1000 == 0:
            feedback.setProgress(min(100.0, 100.0 * i / total))
    df = pd.DataFrame(rows, columns=names)
    crs = source.sourceCrs().toWkt() if source.sourceCrs().isValid() else ""
    if not geometric:
        if x_field and y_field:
            x, y = numeric_column(df, x_field), numeric_column(df, y_field)
        elif require_coordinates:
            raise GeoMLError("The input table has no geometry: choose its X and Y fields.")
        else:
            x = y = np.full(len(df), np.nan)
    else:
        x, y = np.asarray(xs, float), np.asarray(ys, float)
    if z_field:
        z = numeric_column(df, z_field)
    else:
        zz = np.asarray(zs, float)
        z = zz if geometric and np.isfinite(zz).any() else None
    return PointTable(x, y, z, df, crs)


def _qgs_field(name: str, series: pd.Series) -> QgsField:
    kind = series.dtype.kind
    if kind in "iu" or kind == "b":
        return new_field(name, "int")
    if kind == "f":
        return new_field(name, "float")
    return new_field(name, "str")


def points_to_sink(alg, parameters, context, name: str, points: PointTable, crs, columns: Sequence[str] | None = None,
                   feedback: QgsProcessingFeedback | None = None) -> str:
    """Write *points* to the feature sink parameter *name*; returns its destination id.

    Point or PointZ depending on ``points.z``; *crs* is a ``QgsCoordinateReferenceSystem``.
    """
    df = points.attributes if columns is None else points.attributes[list(columns)]
    fields = QgsFields()
    for col in df.columns:
        fields.append(_qgs_field(col, df[col]))
    wkb = WKB_POINT_Z if points.z is not None else WKB_POINT
    sink, dest_id = alg.parameterAsSink(parameters, name, context, fields, wkb, crs)
    if sink is None:
        raise GeoMLError(f"Cannot create the output layer {name}.")
    for i, row in enumerate(df.itertuples(index=False)):
        if feedback is not None and feedback.isCanceled():
            raise Cancelled("Cancelled by the user")
        feat = QgsFeature(fields)
        feat.setAttributes([None if (isinstance(v, float) and np.isnan(v)) else (v.item() if hasattr(v, "item") else v) for v in row])
        if points.z is not None:
            feat.setGeometry(QgsGeometry(QgsPoint(float(points.x[i]), float(points.y[i]), float(points.z[i]))))
        else:
            feat.setGeometry(QgsGeometry(QgsPoint(float(points.x[i]), float(points.y[i]))))
        sink.addFeature(feat, FAST_INSERT)
    return dest_id
