"""geoml:desurveyholes — collar and survey tables into 3D hole traces (minimum curvature or tangential)."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFields,
    QgsGeometry,
    QgsLineString,
    QgsPoint,
    QgsProcessingOutputNumber,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)

from ...compat import FAST_INSERT, NUMBER_DOUBLE, SOURCE_VECTOR, new_field, set_advanced
from ...core.borehole.survey import DIP_CONVENTIONS, METHODS
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm
from ..common.fields import field_parameter
from ..common.parameters import enum_parameter
from .io import add_survey_parameters, source_frame, survey_table

LINESTRING_Z = getattr(QgsWkbTypes, "LineStringZ", None)
if LINESTRING_Z is None:  # QGIS 4: the enum lives in Qgis.WkbType
    from qgis.core import Qgis

    LINESTRING_Z = Qgis.WkbType.LineStringZ


class DesurveyHoles(GeoMLAlgorithm):
    NAME = "desurveyholes"
    DISPLAY_NAME = "Desurvey drill holes (collar + survey tables to 3D traces)"
    PARAMETER_HELP = {
        "LENGTH_FIELD": "Total length of each hole; the trace ends there (default: the deepest survey station).",
        "STEP": "Distance along the hole between vertices of the traces, map units (0 = survey stations only).",
    }
    GROUP = "borehole"
    HELP = (
        "Turns a drilling database's <b>Collar table</b> (hole id, X, Y, elevation; optional azimuth, dip "
        "and total length) and <b>Survey table</b> (hole id, depth along the hole, azimuth, dip) into 3D hole "
        "traces (LineStringZ; open them in View &gt; 3D Map View).<br>"
        "<b>Method</b>: minimum curvature (each interval between survey stations is the circular arc tangent "
        "to both measured directions; the industry standard) or tangential (the lower station's direction "
        "for the whole interval).<br>"
        "<b>Conventions</b>: azimuth in degrees clockwise from grid north, 0-360; dip in degrees from "
        "horizontal, negative downward (-90 = vertical down) unless <b>Dip convention</b> says positive "
        "downward. A hole whose dips point up, or mix signs, is refused naming the hole, as are azimuths "
        "outside 0-360 and survey depths beyond the collar's total length. Holes without survey rows are "
        "drawn straight along the collar azimuth and dip, or vertical when the collar has none (listed in "
        "the log).<br>"
        "<b>Vertex spacing</b>: vertices along the arcs every this many metres (0 = survey stations only).<br>"
        "Output: <b>Hole traces</b> with hole id and length. Assay intervals are placed on these paths by "
        "<i>Cluster borehole assays</i> when it is given the survey table."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("COLLARS", self.tr("Collar table"), [SOURCE_VECTOR]))
        for name, label, role, optional in (("COLLAR_HOLE_FIELD", "Collar hole id field", "hole", False),
                                            ("COLLAR_X_FIELD", "Collar X field", "x", False),
                                            ("COLLAR_Y_FIELD", "Collar Y field", "y", False),
                                            ("COLLAR_Z_FIELD", "Collar elevation field", "z", False),
                                            ("AZIMUTH_FIELD", "Collar azimuth field", "azimuth", True),
                                            ("DIP_FIELD", "Collar dip field", "dip", True),
                                            ("LENGTH_FIELD", "Collar total length field", "length", True)):
            self.addParameter(field_parameter(name, self.tr(label), "COLLARS", role, optional=optional))
        add_survey_parameters(self)
        self.addParameter(enum_parameter("DESURVEY_METHOD", self.tr("Method"), METHODS, "minimum_curvature"))
        step = QgsProcessingParameterNumber("STEP", self.tr("Vertex spacing (0 = stations only)"),
                                            NUMBER_DOUBLE, 5.0, minValue=0.0)
        self.addParameter(set_advanced(step))
        self.addParameter(set_advanced(QgsProcessingParameterCrs("CRS", self.tr("CRS of tables without geometry"),
                                                                 optional=True)))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Hole traces")))
        self.addOutput(QgsProcessingOutputNumber("N_HOLES", self.tr("Number of holes")))

    def execute(self, parameters, context, feedback):
        from ...core.borehole.samples import collar_frame
        from ...core.borehole.survey import desurvey
        from ...core.io.vector import numeric_column

        f = {n: self.parameterAsString(parameters, n, context) or None for n in (
            "COLLAR_HOLE_FIELD", "COLLAR_X_FIELD", "COLLAR_Y_FIELD", "COLLAR_Z_FIELD", "AZIMUTH_FIELD", "DIP_FIELD",
            "LENGTH_FIELD")}
        ctable, _, crs = source_frame(self.parameterAsSource(parameters, "COLLARS", context), "collar table", feedback)
        collars = collar_frame(ctable, f["COLLAR_HOLE_FIELD"], f["COLLAR_X_FIELD"], f["COLLAR_Y_FIELD"],
                               f["COLLAR_Z_FIELD"], f["AZIMUTH_FIELD"], f["DIP_FIELD"])
        if not f["AZIMUTH_FIELD"] or not f["DIP_FIELD"]:  # no collar orientation: holes without survey are vertical
            collars["azimuth"], collars["dip"] = float("nan"), float("nan")
        if f["LENGTH_FIELD"]:
            collars["length"] = numeric_column(ctable, f["LENGTH_FIELD"])
        survey = survey_table(self, parameters, context, feedback)
        result = desurvey(collars, survey, METHODS[self.parameterAsEnum(parameters, "DESURVEY_METHOD", context)],
                          DIP_CONVENTIONS[self.parameterAsEnum(parameters, "DIP_CONVENTION", context)])
        for note in result.notes:
            feedback.pushInfo(note)
        if not crs:
            param = self.parameterAsCrs(parameters, "CRS", context)
            crs = param.toWkt() if param.isValid() else ""
        fields = QgsFields()
        fields.append(new_field("hole", "str"))
        fields.append(new_field("length", "float"))
        sink, dest = self.parameterAsSink(parameters, "OUTPUT", context, fields, LINESTRING_Z,
                                          QgsCoordinateReferenceSystem.fromWkt(crs) if crs else QgsCoordinateReferenceSystem())
        if sink is None:
            raise GeoMLError("The hole traces output could not be created.")
        step = self.parameterAsDouble(parameters, "STEP", context)
        for i, (hole, path) in enumerate(result.paths.items()):
            if feedback.isCanceled():
                break
            trace = path.trace(step)
            if len(trace) < 2:  # neither survey depth nor length: a 1 m stub showing the direction
                trace = path.at(np.array([0.0, 1.0]))
            feat = QgsFeature(fields)
            feat.setGeometry(QgsGeometry(QgsLineString([QgsPoint(*map(float, p)) for p in trace])))
            feat.setAttributes([hole, float(path.end)])
            sink.addFeature(feat, FAST_INSERT)
            feedback.setProgress(100.0 * (i + 1) / len(result.paths))
        return {"OUTPUT": dest, "N_HOLES": len(result.paths)}
