"""geoml:predictprospectivity — a trained model applied to a feature stack (raster) or to points/a table."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)

from ..core.errors import GeoMLError
from .base import GeoMLAlgorithm, progress_callback


class PredictProspectivity(GeoMLAlgorithm):
    NAME = "predictprospectivity"
    DISPLAY_NAME = "Predict prospectivity"
    GROUP = "prospectivity"
    HELP = (
        "Applies a model from <i>Train prospectivity model</i>.<br>"
        "<b>Model</b>: the model file.<br>"
        "<b>Feature stack</b> (FEATURES): a stack with exactly the bands the model was trained on (same names, "
        "same order; otherwise the run stops and names the bands). Writes <b>Probability</b> "
        "(OUTPUT_PROBABILITY), the deposit probability of every cell, block by block, styled 0-1.<br>"
        "<b>Points or table</b> (INPUT): writes <b>Scored layer</b> (OUTPUT), a copy of the layer with a "
        "<i>probability</i> field. Features come from the stack when one is given, else from fields named as "
        "the model's features. Rows without features get an empty probability."
    )
    REQUIRES = ("torch",)

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model"), extension="pt"))
        self.addParameter(QgsProcessingParameterRasterLayer("FEATURES", self.tr("Feature stack"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Points or table"),
                                                              [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_PROBABILITY", self.tr("Probability"),
                                                                  optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Scored layer"), optional=True,
                                                            createByDefault=False))

    def execute(self, parameters, context, feedback):
        from ..core.io import RasterStack, file_sha256
        from ..core.prospectivity.model import ProspectivityModel
        from ..core.prospectivity.sampling import sample_stack
        from ..core.prospectivity.workflow import table_features
        from .prospectivity_io import read_layer, write_scored

        path = self.parameterAsFile(parameters, "MODEL", context)
        model = ProspectivityModel.load(path)
        stack = self.parameterAsRasterLayer(parameters, "FEATURES", context)
        source = self.parameterAsSource(parameters, "INPUT", context)
        out = {}
        if source is None and stack is None:
            raise GeoMLError("Give a feature stack (FEATURES) or points/a table (INPUT) to predict on.")
        target = self.parameterAsOutputLayer(parameters, "OUTPUT_PROBABILITY", context)
        if source is None:
            if not target:
                raise GeoMLError("Choose where to write the probability raster (OUTPUT_PROBABILITY).")
            model.predict_stack(stack.source(), target, {"MODEL": path, "FEATURES": stack.source()},
                                file_sha256(path), progress_callback(feedback))
            return {"OUTPUT_PROBABILITY": target}
        points = read_layer(source, feedback)
        p = np.full(len(points), np.nan)
        if stack is not None:
            with RasterStack([stack.source()]) as st:
                model.check_bands(st.band_names)
                s = sample_stack(st, points)
            if s.message():
                feedback.pushInfo(s.message())
            p[s.kept] = model.predict_proba(s.X)
        else:
            p = model.predict_proba(table_features(points.attributes, model.feature_names))
        points.attributes = points.attributes.assign(probability=p)
        dest = write_scored(self, parameters, context, "OUTPUT", points, source, feedback)
        out["OUTPUT"] = dest
        if stack is not None and target:
            model.predict_stack(stack.source(), target, {"MODEL": path}, file_sha256(path), progress_callback(feedback))
            out["OUTPUT_PROBABILITY"] = target
        if source.wkbType() != QgsWkbTypes.NoGeometry:
            from .styling import graduated, style_vector_output

            style_vector_output(self, context, dest, graduated("probability"))
        return out
