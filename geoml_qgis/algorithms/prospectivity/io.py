"""Reading the prospectivity algorithms' inputs: point layers or tables without geometry."""
from __future__ import annotations

import numpy as np

from ...compat import FAST_INSERT, WKB_NO_GEOMETRY
from ...core.errors import GeoMLError
from ...core.io.vector import PointTable
from ..common.qgisio import source_to_points


def read_layer(source, feedback=None) -> PointTable:
    """A point layer as a :class:`PointTable`; a table without geometry gets NaN coordinates."""
    return source_to_points(source, feedback=feedback, require_coordinates=False)


def write_scored(alg, parameters, context, name: str, points: PointTable, source, feedback=None) -> str:
    """Write *points* to sink *name*: points when *source* has geometry, else a table; returns the id."""
    from qgis.core import QgsFeature, QgsFields

    from ..common.qgisio import _qgs_field, points_to_sink

    if source.wkbType() != WKB_NO_GEOMETRY:
        return points_to_sink(alg, parameters, context, name, points, source.sourceCrs(), feedback=feedback)
    df = points.attributes
    fields = QgsFields()
    for col in df.columns:
        fields.append(_qgs_field(col, df[col]))
    sink, dest = alg.parameterAsSink(parameters, name, context, fields, WKB_NO_GEOMETRY, source.sourceCrs())
    if sink is None:
        raise GeoMLError(f"Cannot create the output table {name}.")
    for row in df.itertuples(index=False):
        feat = QgsFeature(fields)
        feat.setAttributes([None if (isinstance(v, float) and np.isnan(v)) else (v.item() if hasattr(v, "item") else v)
                            for v in row])
        sink.addFeature(feat, FAST_INSERT)
    return dest
