"""geoml:evaluateprospectivity — a probability map or scored layer against validation points."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import FIELD_NUMERIC, SOURCE_VECTOR, SOURCE_VECTOR_POINT
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm
from ..common.choices import OneOf
from ..common.fields import field_parameter


class EvaluateProspectivity(GeoMLAlgorithm):
    NAME = "evaluateprospectivity"
    DISPLAY_NAME = "Evaluate prospectivity"
    GROUP = "prospectivity"
    ONE_OF = (OneOf("the map to evaluate", (("PROBABILITY", "VALIDATION"), ("SCORED", "SCORE_FIELD"))),)
    HELP = (
        "Scores a prospectivity map with validation points that were <b>not</b> used to train it.<br>"
        "<b>Probability raster</b> (PROBABILITY): the map to evaluate; the success-rate curve ranks all of its "
        "cells (at most 4 million, a uniform random subset beyond that).<br>"
        "Or <b>Scored layer</b> (SCORED) with a <b>Score field</b> (default <i>probability</i>): points or a table "
        "scored by <i>Predict prospectivity</i>; its own rows stand for the area.<br>"
        "<b>Validation points</b> (VALIDATION) with a <b>Label field</b> (1 deposit / 0 not); with SCORED they "
        "may be omitted, the scored layer's LABEL_FIELD is then used.<br>"
        "Outputs: an HTML report (ROC AUC, PR AUC, success-rate curve and its area, share of deposits captured "
        "in the top 5, 10 and 20 % of the area, prediction-area plot) and a CSV with the figures and the curve."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("PROBABILITY", self.tr("Probability raster (or scores)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource("SCORED", self.tr("Scored layer (or raster)"),
                                                              [SOURCE_VECTOR], optional=True))
        self.addParameter(field_parameter("SCORE_FIELD", self.tr("Score field (of scored layer)"), "SCORED", "score",
                                          kind=FIELD_NUMERIC, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource("VALIDATION", self.tr("Validation points (with a raster)"),
                                                              [SOURCE_VECTOR_POINT], optional=True))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Label field (1 deposit / 0 not)"), "VALIDATION",
                                          "label", optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)"))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_CSV", self.tr("Figures (CSV)"), "CSV (*.csv)",
                                                                optional=True))
        self.addOutput(QgsProcessingOutputNumber("SUCCESS_RATE_AUC", self.tr("Success-rate curve AUC")))
        self.addOutput(QgsProcessingOutputNumber("ROC_AUC", self.tr("ROC AUC (needs negative labels)")))

    def execute(self, parameters, context, feedback):
        from ...core.io import numeric_column
        from ...core.prospectivity import workflow
        from ...core.prospectivity.report import metric_label
        from ...core.prospectivity.sampling import labels
        from .io import read_layer

        raster = self.parameterAsRasterLayer(parameters, "PROBABILITY", context)
        scored = self.parameterAsSource(parameters, "SCORED", context)
        valid_src = self.parameterAsSource(parameters, "VALIDATION", context)
        label = self.parameterAsString(parameters, "LABEL_FIELD", context)
        if not label:
            raise GeoMLError("Choose the label field (1 deposit / 0 not).")
        notes = []
        if raster is not None:
            if valid_src is None:
                raise GeoMLError("Give validation points (VALIDATION) to evaluate a probability raster.")
            points = read_layer(valid_src, feedback)
            y = labels(points.attributes, label)
            mapped = workflow.raster_scores(raster.source(), points)
            area, scores = mapped.area, mapped.at_points
            notes.append(f"Map: {raster.source()}. {mapped.note}")
        elif scored is not None:
            table = read_layer(scored, feedback)
            scores = numeric_column(table.attributes, self.parameterAsString(parameters, "SCORE_FIELD", context))
            y = labels(table.attributes, label)
            area = scores
            notes.append("Scores of the layer's own rows stand for the area.")
        else:
            raise GeoMLError("Give a probability raster (PROBABILITY) or a scored layer (SCORED).")
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        csv_path = self.parameterAsFileOutput(parameters, "OUTPUT_CSV", context) or None
        result = workflow.evaluate(np.asarray(area), scores=scores, y=y, report_path=report_path,
                                   csv_path=csv_path, notes=notes)
        for k, v in result.metrics().items():
            feedback.pushInfo(f"{metric_label(k)}: {v:.3f}" if isinstance(v, float) else f"{metric_label(k)}: {v}")
        out = {"OUTPUT_REPORT": report_path, "SUCCESS_RATE_AUC": result.success_rate_auc}
        if result.roc_auc is not None:
            out["ROC_AUC"] = result.roc_auc
        if csv_path:
            out["OUTPUT_CSV"] = csv_path
        return out
