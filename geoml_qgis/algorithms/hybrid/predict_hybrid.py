"""geoml:predicthybrid — maps a property with a trained hybrid kriging + deep-learning predictor."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ...compat import NUMBER_DOUBLE, SOURCE_RASTER, SOURCE_VECTOR_POINT
from ...core.io.matching import order_by_name, warn_outside_range
from ..common.base import progress_callback
from ..geostats.params import GRID, GRID_HELP, GeostatsAlgorithm, optional_number
from .covariates import covariate_paths


class PredictHybrid(GeostatsAlgorithm):
    NAME = "predicthybrid"
    GROUP = "hybrid"  # core/hybrid; shares the geostatistics parameters
    DISPLAY_NAME = "Predict with hybrid predictor"
    PARAMETER_HELP = {
        "OUTPUT_PREDICTION": "Predicted property (GeoTIFF): kriging corrected by the network, mean of the ensemble.",
        "OUTPUT_UNCERTAINTY": "Spread (standard deviation) of the ensemble members' predictions (GeoTIFF).",
    }
    REQUIRES = ("torch",)
    ONE_OF = (GRID,)
    HELP = (
        "Maps a property with a model from <i>Train hybrid kriging + deep learning predictor</i>, block by block: "
        "the ensemble's mean prediction and its spread (standard deviation over members) as uncertainty.<br>"
        "<b>Model</b> (MODEL): the trained model file.<br>"
        "<b>Training points</b> (INPUT, optional) and <b>Value field</b> (FIELD): the samples that condition the "
        "prediction (their neighbour sequences and kriging); by default the samples stored in the model.<br>"
        "<b>Covariates</b> (COVARIATES): the same rasters, in the same order, as in training.<br>" + GRID_HELP +
        "<b>Z level</b> (Z_LEVEL): for a 3D model, elevation of the slice (default: mean sample Z).<br>"
        "<b>Outputs</b>: OUTPUT_PREDICTION and OUTPUT_UNCERTAINTY (styled GeoTIFFs)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Hybrid model"), extension="pt"))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "INPUT", self.tr("Training points"), [SOURCE_VECTOR_POINT], optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "COVARIATES", self.tr("Covariate rasters"), SOURCE_RASTER, optional=True))
        self.add_grid_params()
        self.addParameter(QgsProcessingParameterNumber(
            "Z_LEVEL", self.tr("Z of the slice (3D, map units)"), NUMBER_DOUBLE, optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_PREDICTION", self.tr("Prediction")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_UNCERTAINTY", self.tr("Uncertainty (spread)")))

    def execute(self, parameters, context, feedback):
        from qgis.core import QgsCoordinateReferenceSystem

        from ...core.geostats.rasters import check_extent
        from ...core.hybrid.predictor import HybridPredictor
        from ...core.hybrid.rasters import predict_to_rasters
        from ...core.io.provenance import file_sha256, provenance

        model_path = self.parameterAsFile(parameters, "MODEL", context)
        hp, meta = HybridPredictor.load(model_path)
        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is not None:
            samples, crs, crs_wkt, _ = self.read_samples(parameters, context, feedback, meta["field"])
            hp.recondition(samples.coords, samples.values)
        else:
            crs_wkt = meta.get("crs_wkt", "")
            crs = QgsCoordinateReferenceSystem.fromWkt(crs_wkt) if crs_wkt else QgsCoordinateReferenceSystem()
        cov_paths = covariate_paths(self, parameters, context, crs_wkt)
        cov_paths = order_by_name(meta["covariates"], cov_paths)  # by name, never by position
        warn_outside_range(meta["covariates"], meta.get("covariate_ranges", []), cov_paths)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(hp.builder_.coords, grid)
        z_level = None
        if hp.builder_.coords.shape[1] == 3:
            z_level = optional_number(self, parameters, "Z_LEVEL", context)
            z_level = float(hp.builder_.coords[:, 2].mean()) if z_level is None else z_level
        pred = self.parameterAsOutputLayer(parameters, "OUTPUT_PREDICTION", context)
        unc = self.parameterAsOutputLayer(parameters, "OUTPUT_UNCERTAINTY", context)
        meta_out = provenance("geoml:predicthybrid", {"model": model_path}, file_sha256(model_path))
        predict_to_rasters(hp, grid, pred, unc, cov_paths, meta_out, progress_callback(feedback), z_level)
        return {"OUTPUT_PREDICTION": pred, "OUTPUT_UNCERTAINTY": unc}
