"""geoml:predictprospectivity — a trained model applied to a feature stack (raster) or to points/a table."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import SOURCE_VECTOR, WKB_NO_GEOMETRY
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.choices import OneOf


class PredictProspectivity(GeoMLAlgorithm):
    NAME = "predictprospectivity"
    DISPLAY_NAME = "Predict prospectivity"
    PARAMETER_HELP = {
        "OUTPUT_ALEATORIC": "Aleatoric uncertainty (noise in the data) of a VAE ensemble model.",
        "OUTPUT_EPISTEMIC": "Epistemic uncertainty (disagreement of the members: where more data helps) of a VAE "
                            "ensemble model.",
        "OUTPUT_TOTAL": "Total predictive uncertainty (aleatoric + epistemic) of a VAE ensemble model.",
    }
    GROUP = "prospectivity"
    ONE_OF = (OneOf("what to predict on", (("FEATURES",), ("INPUT",))),)
    HELP = (
        "Applies a model from <i>Train prospectivity model</i>.<br>"
        "<b>Model</b>: the model file.<br>"
        "<b>Feature stack</b> (FEATURES): a stack with exactly the bands the model was trained on (same names, "
        "same order; otherwise the run stops and names the bands). Writes <b>Probability</b> "
        "(OUTPUT_PROBABILITY), the deposit probability of every cell, block by block, styled 0-1.<br>"
        "<b>Points or table</b> (INPUT): writes <b>Scored layer</b> (OUTPUT), a copy of the layer with a "
        "<i>probability</i> field. Features come from the stack when one is given, else from fields named as "
        "the model's features. Rows without features get an empty probability.<br>"
        "With a <i>vae_ensemble</i> model: OUTPUT_ALEATORIC (noise in the data), OUTPUT_EPISTEMIC (disagreement "
        "of the members: what more data would reduce) and OUTPUT_TOTAL (sqrt of the sum of their squares) "
        "rasters, all in probability units; on points, fields <i>aleatoric</i>, <i>epistemic</i>, <i>total</i>."
    )
    REQUIRES = ("torch",)

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model"), extension="pt"))
        self.addParameter(QgsProcessingParameterRasterLayer("FEATURES", self.tr("Feature stack (or points/table)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Points or table (or feature stack)"),
                                                              [SOURCE_VECTOR], optional=True))
        # on by default: a run with a model and a stack (or a table) writes something without more choices
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_PROBABILITY", self.tr("Probability"),
                                                                  optional=True, createByDefault=True))
        for key, label in (("OUTPUT_ALEATORIC", "Aleatoric uncertainty"), ("OUTPUT_EPISTEMIC", "Epistemic uncertainty"),
                           ("OUTPUT_TOTAL", "Total uncertainty")):
            self.addParameter(QgsProcessingParameterRasterDestination(key, self.tr(label), optional=True,
                                                                      createByDefault=False))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Scored layer"), optional=True,
                                                            createByDefault=True))

    def execute(self, parameters, context, feedback):
        from ...core.io import RasterStack, file_sha256
        from ...core.prospectivity.model import ProspectivityModel
        from ...core.prospectivity.sampling import sample_stack
        from ...core.prospectivity.workflow import table_features
        from .io import read_layer, write_scored

        path = self.parameterAsFile(parameters, "MODEL", context)
        model = ProspectivityModel.load(path)
        stack = self.parameterAsRasterLayer(parameters, "FEATURES", context)
        source = self.parameterAsSource(parameters, "INPUT", context)
        out = {}
        if source is None and stack is None:
            raise GeoMLError("Give a feature stack (FEATURES) or points/a table (INPUT) to predict on.")
        target = self.parameterAsOutputLayer(parameters, "OUTPUT_PROBABILITY", context)
        unc = {k: self.parameterAsOutputLayer(parameters, f"OUTPUT_{k.upper()}", context)
               for k in ("aleatoric", "epistemic", "total")}
        unc = {k: v for k, v in unc.items() if v}
        if unc and model.method != "vae_ensemble":
            raise GeoMLError(f"Uncertainty rasters need a vae_ensemble model; this one is {model.method}.")
        if source is None:
            if not target:
                raise GeoMLError("Choose where to write the probability raster (OUTPUT_PROBABILITY).")
            model.predict_stack(stack.source(), target, {"MODEL": path, "FEATURES": stack.source()},
                                file_sha256(path), progress_callback(feedback), uncertainty=unc,
                                algorithm=self.id())
            return {"OUTPUT_PROBABILITY": target, **{f"OUTPUT_{k.upper()}": v for k, v in unc.items()}}
        points = read_layer(source, feedback)
        if stack is not None:
            with RasterStack([stack.source()]) as st:
                model.check_bands(st.band_names)
                s = sample_stack(st, points)
            if s.message():
                feedback.pushInfo(s.message())
            X = np.full((len(points), len(model.feature_names)), np.nan)
            X[s.kept] = s.X
        else:
            X = table_features(points.attributes, model.feature_names)
        if model.method == "vae_ensemble":
            u = model.predict_uncertainty(X)
            points.attributes = points.attributes.assign(
                probability=u["probability"], aleatoric=u["aleatoric"], epistemic=u["epistemic"], total=u["total"])
        else:
            points.attributes = points.attributes.assign(probability=model.predict_proba(X))
        dest = write_scored(self, parameters, context, "OUTPUT", points, source, feedback)
        out["OUTPUT"] = dest
        if stack is not None and target:
            model.predict_stack(stack.source(), target, {"MODEL": path}, file_sha256(path), progress_callback(feedback),
                                uncertainty=unc, algorithm=self.id())
            out["OUTPUT_PROBABILITY"] = target
            out.update({f"OUTPUT_{k.upper()}": v for k, v in unc.items()})
        if source.wkbType() != WKB_NO_GEOMETRY:
            from ..common.styling import graduated, style_vector_output

            style_vector_output(self, context, dest, graduated("probability"))
        return out
