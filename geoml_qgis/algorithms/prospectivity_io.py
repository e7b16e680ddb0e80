"""Reading the prospectivity algorithms' inputs: point layers or tables without geometry."""
from __future__ import annotations

import numpy as np
import pandas as pd
from qgis.core import QgsWkbTypes

from ..core.errors import Cancelled, GeoMLError
from ..core.io.vector import PointTable
from .qgisio import _py, source_to_points


def read_layer(source, feedback=None) -> PointTable:
    """A point layer as a :class:`PointTable`; a table without geometry gets NaN coordinates."""
    if source is None:
        raise GeoMLError("The input layer could not be read.")
    if source.wkbType() != QgsWkbTypes.NoGeometry:
        return source_to_points(source, feedback=feedback)
    names = [f.name() for f in source.fields()]
    rows = []
    for feat in source.getFeatures():
        if feedback is not None and feedback.isCanceled():
            raise Cancelled("Cancelled by the user")
        rows.append([_py(v) for v in feat.attributes()])
    n = len(rows)
    return PointTable(np.full(n, np.nan), np.full(n, np.nan), None, pd.DataFrame(rows, columns=names), "")


def write_scored(alg, parameters, context, name: str, points: PointTable, source, feedback=None) -> str:
    """Write *points* to sink *name*: points when *source* has geometry, else a table; returns the id."""
    from qgis.core import QgsFeature, QgsFeatureSink, QgsFields

    from .qgisio import _qgs_field, points_to_sink

    if source.wkbType() != QgsWkbTypes.NoGeometry:
        return points_to_sink(alg, parameters, context, name, points, source.sourceCrs(), feedback=feedback)
    df = points.attributes
    fields = QgsFields()
    for col in df.columns:
        fields.append(_qgs_field(col, df[col]))
    sink, dest = alg.parameterAsSink(parameters, name, context, fields, QgsWkbTypes.NoGeometry, source.sourceCrs())
    if sink is None:
        raise GeoMLError(f"Cannot create the output table {name}.")
    for row in df.itertuples(index=False):
        feat = QgsFeature(fields)
        feat.setAttributes([None if (isinstance(v, float) and np.isnan(v)) else (v.item() if hasattr(v, "item") else v)
                            for v in row])
        sink.addFeature(feat, QgsFeatureSink.FastInsert)
    return dest
