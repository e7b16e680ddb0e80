"""geoml:predictweightsofevidence — a saved weights-of-evidence model applied to evidence rasters."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
)

from ...compat import SOURCE_RASTER
from ..common.base import GeoMLAlgorithm, progress_callback


class PredictWeightsOfEvidence(GeoMLAlgorithm):
    NAME = "predictweightsofevidence"
    DISPLAY_NAME = "Predict weights of evidence"
    GROUP = "prospectivity"
    HELP = (
        "Applies the weights saved by <i>Weights of evidence</i> (OUTPUT_MODEL, JSON) to evidence rasters, e.g. "
        "a neighbouring area with the same layers: posterior probability and its standard deviation (weights "
        "and missing-data variance), block by block, styled.<br><b>Evidence rasters</b> (EVIDENCE): the same "
        "layers, with the same band names and in the same order as when the weights were computed (the model "
        "lists them); class values not seen then count as missing evidence.<br>The Agterberg-Cheng ratio n/T "
        "is reported for the new area against the training deposits' count (meaningful only for the same area)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Weights model (JSON)"), extension="json"))
        self.addParameter(QgsProcessingParameterMultipleLayers("EVIDENCE", self.tr("Evidence rasters"), SOURCE_RASTER))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_POSTERIOR", self.tr("Posterior probability")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_SD", self.tr("Posterior standard deviation"),
                                                                  optional=True))
        self.addOutput(QgsProcessingOutputNumber("PREDICTED_DEPOSITS", self.tr("Predicted number of deposits (T)")))

    def execute(self, parameters, context, feedback):
        from ...core.prospectivity.wofe_model import WofEModel
        from ...core.prospectivity.wofe_raster import predict_raster

        model = WofEModel.load(self.parameterAsFile(parameters, "MODEL", context))
        rasters = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "EVIDENCE", context)]
        post = self.parameterAsOutputLayer(parameters, "OUTPUT_POSTERIOR", context)
        sd = self.parameterAsOutputLayer(parameters, "OUTPUT_SD", context) or None
        ac, _ = predict_raster(model, rasters, post, sd, {k: str(v) for k, v in parameters.items()},
                               progress_callback(feedback), algorithm=self.id())
        feedback.pushInfo(f"Predicted deposits T = {ac['predicted_deposits']:.2f} ± {ac['sd_predicted']:.2f}")
        out = {"OUTPUT_POSTERIOR": post, "PREDICTED_DEPOSITS": ac["predicted_deposits"]}
        if sd:
            out["OUTPUT_SD"] = sd
        return out
