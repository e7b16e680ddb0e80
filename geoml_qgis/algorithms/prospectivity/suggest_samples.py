"""geoml:suggestsamples — active learning: the next places to sample, where the ensemble is least sure."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ...core.errors import GeoMLError
from ...core.prospectivity.activelearning import CRITERIA
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter


class SuggestSamples(GeoMLAlgorithm):
    NAME = "suggestsamples"
    DISPLAY_NAME = "Suggest new samples (active learning)"
    GROUP = "prospectivity"
    HELP = (
        "Suggests where to sample or map next so that the prospectivity model learns most: the places where "
        "the members of a vae_ensemble model disagree most.<br><b>Model</b>: a vae_ensemble model from "
        "<i>Train prospectivity model</i>.<br><b>Feature stack</b>: the stack it was trained on (same bands).<br>"
        "<b>Number of sample sites</b> (N_TARGETS): how many places; <b>Minimum spacing</b> (MIN_SPACING, map units): suggestions are at least "
        "this far apart, so they spread out.<br><b>Criterion</b>: <i>epistemic</i> uncertainty (spread of the "
        "members' probabilities) or <i>mutual_information</i> between the label and the members.<br>"
        "Output: points with rank, probability, epistemic uncertainty and mutual information."
    )
    REQUIRES = ("torch",)

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model"), extension="pt"))
        self.addParameter(QgsProcessingParameterRasterLayer("FEATURES", self.tr("Feature stack")))
        self.addParameter(QgsProcessingParameterNumber("N_TARGETS", self.tr("Number of sample sites"),
                                                       NUMBER_INTEGER, 10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber("MIN_SPACING", self.tr("Minimum spacing (map units)"),
                                                       NUMBER_DOUBLE, 0.0, minValue=0))
        self.addParameter(enum_parameter("CRITERION", self.tr("Criterion"), CRITERIA, "epistemic"))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Suggested samples")))
        self.addOutput(QgsProcessingOutputNumber("N_FOUND", self.tr("Number of suggested samples")))

    def execute(self, parameters, context, feedback):
        import numpy as np
        import pandas as pd

        from ...core.io import PointTable
        from ...core.prospectivity.activelearning import suggest_samples
        from ...core.prospectivity.model import ProspectivityModel
        from ..common.qgisio import points_to_sink
        from ..common.styling import graduated, style_vector_output

        model = ProspectivityModel.load(self.parameterAsFile(parameters, "MODEL", context))
        if model.method != "vae_ensemble":
            raise GeoMLError(f"Suggesting samples needs a vae_ensemble model; this one is {model.method}.")
        stack = self.parameterAsRasterLayer(parameters, "FEATURES", context)
        criterion = enum_choice(self, parameters, "CRITERION", CRITERIA, context)
        picks = suggest_samples(model, stack.source(), self.parameterAsInt(parameters, "N_TARGETS", context),
                                self.parameterAsDouble(parameters, "MIN_SPACING", context), criterion,
                                progress_callback(feedback))
        df = pd.DataFrame({"rank": np.arange(1, len(picks) + 1, dtype=np.int64),
                           **{k: [c.values[i] for c in picks]
                              for i, k in enumerate(("probability", "epistemic", "mutual_information"))}})
        pts = PointTable(np.array([c.x for c in picks]), np.array([c.y for c in picks]), None, df)
        dest = points_to_sink(self, parameters, context, "OUTPUT", pts, stack.crs(), feedback=feedback)
        style_vector_output(self, context, dest, graduated(criterion, ramp="magma"))
        return {"OUTPUT": dest, "N_FOUND": len(picks)}
