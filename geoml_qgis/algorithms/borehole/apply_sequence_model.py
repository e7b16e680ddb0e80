"""geoml:applysequencemodel — a trained downhole sequence model labels the samples of new holes."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterVectorDestination,
)

from ...compat import SOURCE_VECTOR, SOURCE_VECTOR_POINT
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm
from ..common.fields import field_parameter
from .io import CLEANING_HELP, add_cleaning_parameters, cleaning_options, downhole_positions, source_frame, write_clusters


class ApplySequenceModel(GeoMLAlgorithm):
    NAME = "applysequencemodel"
    DISPLAY_NAME = "Apply a downhole sequence model to new holes"
    GROUP = "borehole"
    REQUIRES = ("torch",)
    HELP = (
        "Labels every sample of new drill holes with a model trained by <i>Downhole sequence model</i>: "
        "the samples of each hole, ordered by depth, are read by the network as in training.<br>"
        "<b>Model</b>: the .pt file written by the training (its elements, transform and classes are "
        "stored in it).<br>"
        "<b>Samples of new holes</b>: a point layer (3D points) or a table with the same element fields "
        "as the training (same names; detection-limit values are cleaned as in the clustering). A table "
        "missing an element of the model is refused, naming the element.<br>"
        "<b>X / Y / Z fields</b> for tables without geometry (or to override the points). "
        "<b>Hole id field</b>; <b>Depth field</b>: along-hole depth (without it samples are ordered by "
        "falling Z of the points). <b>CRS</b> for tables without geometry.<br>"
        "Advanced: " + CLEANING_HELP + " Use the options the model's training samples were cleaned with.<br>"
        "<b>Label field</b> (optional): known labels of these holes (e.g. the clustering's <i>cluster</i>); "
        "when given, the share of samples whose prediction agrees is returned as AGREEMENT.<br>"
        "Output: <b>Labelled samples</b> (PointZ GeoPackage with <i>predicted</i> and <i>probability</i> of "
        "that class, styled by prediction in 2D and in the 3D map view like the clustering)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model"), extension="pt"))
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Samples of new holes"), [SOURCE_VECTOR]))
        self.addParameter(field_parameter("HOLE_FIELD", self.tr("Hole id field"), "INPUT", "hole"))
        for name, label, role in (("X_FIELD", "X field", "x"), ("Y_FIELD", "Y field", "y"),
                                  ("Z_FIELD", "Z (elevation) field", "z")):
            self.addParameter(field_parameter(name, self.tr(label), "INPUT", role, optional=True))
        self.addParameter(field_parameter("DEPTH_FIELD", self.tr("Depth field"), "INPUT", "depth", optional=True))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Known label field (optional)"), "INPUT",
                                          optional=True))
        self.addParameter(QgsProcessingParameterCrs("CRS", self.tr("CRS of tables without geometry"), optional=True))
        add_cleaning_parameters(self)
        self.addParameter(QgsProcessingParameterVectorDestination("OUTPUT", self.tr("Labelled samples"),
                                                                  SOURCE_VECTOR_POINT))
        self.addOutput(QgsProcessingOutputNumber("AGREEMENT", self.tr("Share of samples agreeing with the known labels")))

    def execute(self, parameters, context, feedback):
        from ...core.borehole.apply import held_out_agreement, label_samples, required_elements
        from ...core.borehole.assays import hole_ids
        from ...core.borehole.samples import build_samples
        from ...core.borehole.sequence import SequenceModel
        from ...core.io.vector import numeric_column

        model, meta = SequenceModel.load(self.parameterAsFile(parameters, "MODEL", context))
        table, xyz, crs = source_frame(self.parameterAsSource(parameters, "INPUT", context), "table of new holes", feedback)
        hole_field = self.parameterAsString(parameters, "HOLE_FIELD", context)
        depth_field = self.parameterAsString(parameters, "DEPTH_FIELD", context)
        label_field = self.parameterAsString(parameters, "LABEL_FIELD", context)
        crs_param = self.parameterAsCrs(parameters, "CRS", context)
        if not crs and crs_param.isValid():
            crs = crs_param.toWkt()
        if not hole_field or hole_field not in table.columns:
            raise GeoMLError("Choose the hole id field of the new holes.")
        elements = required_elements(meta, table.columns)
        depth = numeric_column(table, depth_field) if depth_field else None
        fx, fy, fz = (self.parameterAsString(parameters, n, context) for n in ("X_FIELD", "Y_FIELD", "Z_FIELD"))
        if fx and fy:
            z = numeric_column(table, fz) if fz else np.full(len(table), np.nan)
            xyz = np.column_stack([numeric_column(table, fx), numeric_column(table, fy), z])
        xyz = downhole_positions(xyz, depth, len(table), "table")
        samples = build_samples(table, elements, hole_ids(table[hole_field]), xyz=xyz, depth=depth, crs_wkt=crs,
                                carry=[label_field] if label_field else None, **cleaning_options(self, parameters, context))
        for note in samples.log.messages:
            feedback.pushInfo(note)
        frame = label_samples(model, meta, samples)
        agreement = held_out_agreement(frame, label_field) if label_field else None
        classes = model.classes_
        trained_on = meta.get("label_field", "class")
        if np.issubdtype(classes.dtype, np.integer):
            names = {int(c): f"{trained_on} {c}" for c in classes}
        else:
            frame["predicted"] = np.searchsorted(classes, frame["predicted"].to_numpy()) + 1
            names = {i + 1: str(c) for i, c in enumerate(classes)}
        layer = write_clusters(self, context, parameters, "OUTPUT", frame, crs, "predicted", names)
        feedback.pushInfo(f"{len(frame)} samples of {samples.n_holes} hole(s) labelled; mean probability "
                          f"{frame['probability'].mean():.3f}.")
        if agreement is not None:
            feedback.pushInfo(f"Agreement with '{label_field}': {agreement:.3f}")
        return {"OUTPUT": layer, "AGREEMENT": float("nan") if agreement is None else agreement}
