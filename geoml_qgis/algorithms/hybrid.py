"""geoml:trainhybridpredictor and geoml:predicthybrid — kriging features + Conv1D + BiLSTM."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ..core.errors import GeoMLError
from .base import progress_callback
from .geostats_params import GRID_HELP, SAMPLE_HELP, GeostatsAlgorithm, optional_number

TRANSFORMS = ["none", "log"]
VARIOGRAMS = ["spherical", "exponential", "gaussian", "stable", "auto"]
LOSSES = ["mse", "huber"]


def _covariates(alg, parameters, context, crs_wkt):
    from ..core.io.crs import same_crs
    from ..core.io.raster import raster_grid

    layers = alg.parameterAsLayerList(parameters, "COVARIATES", context) or []
    paths = [lyr.source() for lyr in layers]
    for p in paths:
        g = raster_grid(p)
        if g.crs_wkt and crs_wkt and not same_crs(g.crs_wkt, crs_wkt):
            raise GeoMLError(f"Covariate '{p}' is not in the points' CRS; warp it to that CRS first.")
    return paths


def _sample_covariates(paths, coords):
    from ..core.hybrid.features import check_covariates
    from ..core.io.raster import RasterStack

    if not paths:
        return None, []
    with RasterStack(paths) as stack:
        values = stack.sample(coords[:, 0], coords[:, 1])
        names = list(stack.band_names)
    return check_covariates(values, names), names


class TrainHybridPredictor(GeostatsAlgorithm):
    NAME = "trainhybridpredictor"
    DISPLAY_NAME = "Train hybrid kriging + deep learning predictor"
    REQUIRES = ("torch",)
    HELP = (
        "Trains a hybrid geostatistical deep-learning predictor of a continuous property (e.g. a metal "
        "concentration). For every location the network sees its k nearest samples as a sequence (value, "
        "distance, offsets, variogram covariance to the location), the ordinary-kriging estimate and variance "
        "there, and optional covariates; a Conv1D + bidirectional LSTM learns a <i>correction</i> to the kriging "
        "estimate, so with nothing to learn it falls back on kriging. A sample never sees its own value: its "
        "training inputs are built from the other samples only. An ensemble of a few seeds gives a spread, "
        "reported as uncertainty. The report compares it with ordinary kriging by spatially blocked "
        "cross-validation on the same folds (RMSE, MAE, R&sup2;).<br>" + SAMPLE_HELP +
        "<b>Covariates</b> (COVARIATES, optional): rasters sampled at each location (e.g. distance to river, "
        "elevation); they must cover every sample with data.<br>"
        "<b>Neighbours</b> (NEIGHBOURS): length of the neighbour sequence (default 16).<br>"
        "<b>Transform</b> (TRANSFORM): <i>log</i> models log values (skewed concentrations); predictions are "
        "back-transformed (exp), the CV table is in log units.<br>"
        "<b>Variogram</b> (VARIOGRAM): model fitted for the kriging features (per fold in cross-validation).<br>"
        "<b>Loss</b> (LOSS): mean squared error, or Huber (less swayed by outliers).<br>"
        "<b>Epochs</b> (EPOCHS, early stopping on a validation part), <b>Ensemble</b> (ENSEMBLE, members), "
        "<b>Folds</b> (FOLDS), <b>Seed</b> (SEED).<br>"
        "<b>Outputs</b>: OUTPUT_MODEL (for <i>Predict with hybrid predictor</i>) and OUTPUT_REPORT (HTML)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "COVARIATES", self.tr("Covariate rasters"), QgsProcessing.TypeRaster, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "NEIGHBOURS", self.tr("Neighbours in the sequence"), QgsProcessingParameterNumber.Integer,
            defaultValue=16, minValue=1))
        self.addParameter(QgsProcessingParameterEnum("TRANSFORM", self.tr("Transform"), TRANSFORMS, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum("VARIOGRAM", self.tr("Variogram model"), VARIOGRAMS, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum("LOSS", self.tr("Loss"), LOSSES, defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            "EPOCHS", self.tr("Epochs (maximum)"), QgsProcessingParameterNumber.Integer, defaultValue=200, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "ENSEMBLE", self.tr("Ensemble members"), QgsProcessingParameterNumber.Integer, defaultValue=3, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "FOLDS", self.tr("Cross-validation folds"), QgsProcessingParameterNumber.Integer, defaultValue=5, minValue=2))
        self.addParameter(QgsProcessingParameterNumber(
            "SEED", self.tr("Random seed"), QgsProcessingParameterNumber.Integer, defaultValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_MODEL", self.tr("Hybrid model"), "GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Report"), "HTML files (*.html)"))
        self.addOutput(QgsProcessingOutputNumber("HYBRID_RMSE", "Hybrid blocked-CV RMSE"))
        self.addOutput(QgsProcessingOutputNumber("KRIGING_RMSE", "Ordinary kriging blocked-CV RMSE"))

    def execute(self, parameters, context, feedback):
        from ..core.geostats.variogram import experimental_variogram, fit_variogram
        from ..core.hybrid.evaluate import blocked_comparison
        from ..core.hybrid.predictor import HybridPredictor, forward_transform
        from ..core.hybrid.report import write_hybrid_report
        from ..core.progress import scaled

        samples, _, crs_wkt, field = self.read_samples(parameters, context, feedback)
        cov_paths = _covariates(self, parameters, context, crs_wkt)
        cov, names = _sample_covariates(cov_paths, samples.coords)
        transform = TRANSFORMS[self.parameterAsEnum(parameters, "TRANSFORM", context)]
        kind = VARIOGRAMS[self.parameterAsEnum(parameters, "VARIOGRAM", context)]
        args = {"neighbours": self.parameterAsInt(parameters, "NEIGHBOURS", context), "transform": transform,
                "epochs": self.parameterAsInt(parameters, "EPOCHS", context),
                "ensemble": self.parameterAsInt(parameters, "ENSEMBLE", context),
                "loss": LOSSES[self.parameterAsEnum(parameters, "LOSS", context)]}
        seed = self.parameterAsInt(parameters, "SEED", context)
        progress = progress_callback(feedback)
        feedback.pushInfo("Spatially blocked cross-validation, hybrid vs ordinary kriging...")
        cmp = blocked_comparison(samples.coords, samples.values, cov, kind,
                                 self.parameterAsInt(parameters, "FOLDS", context), seed=seed,
                                 progress=scaled(progress, 0.0, 0.8), **args)
        feedback.pushInfo(cmp.scores.to_string())
        ev = experimental_variogram(samples.coords, forward_transform(samples.values, transform))
        model, _ = fit_variogram(ev, kind)
        feedback.pushInfo(f"Variogram ({transform} values): {model.describe()}")
        hp = HybridPredictor(model, seed=seed, **args).fit(samples.coords, samples.values, cov,
                                                          progress=scaled(progress, 0.8, 1.0))
        model_path = self.parameterAsFileOutput(parameters, "OUTPUT_MODEL", context)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        hp.save(model_path, {"field": field, "covariates": names, "crs_wkt": crs_wkt,
                             "cv_scores": cmp.scores.to_dict(orient="index")})
        units = "log units" if transform == "log" else "data units"
        write_hybrid_report(report_path, cmp, hp.log_, field, units,
                            {**args, "variogram": model.describe(), "covariates": ", ".join(names) or "none",
                             "samples": samples.summary()})
        return {"OUTPUT_MODEL": model_path, "OUTPUT_REPORT": report_path,
                "HYBRID_RMSE": float(cmp.scores.loc["hybrid", "RMSE"]),
                "KRIGING_RMSE": float(cmp.scores.loc["ordinary kriging", "RMSE"])}


class PredictHybrid(GeostatsAlgorithm):
    NAME = "predicthybrid"
    DISPLAY_NAME = "Predict with hybrid predictor"
    REQUIRES = ("torch",)
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
            "INPUT", self.tr("Training points"), [QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "COVARIATES", self.tr("Covariate rasters"), QgsProcessing.TypeRaster, optional=True))
        self.add_grid_params()
        self.addParameter(QgsProcessingParameterNumber(
            "Z_LEVEL", self.tr("Z level of the slice (3D)"), QgsProcessingParameterNumber.Double, optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_PREDICTION", self.tr("Prediction")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_UNCERTAINTY", self.tr("Uncertainty (spread)")))

    def execute(self, parameters, context, feedback):
        from qgis.core import QgsCoordinateReferenceSystem

        from ..core.geostats.rasters import check_extent
        from ..core.hybrid.predictor import HybridPredictor
        from ..core.hybrid.rasters import predict_to_rasters
        from ..core.io.provenance import file_sha256, provenance

        model_path = self.parameterAsFile(parameters, "MODEL", context)
        hp, meta = HybridPredictor.load(model_path)
        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is not None:
            samples, crs, crs_wkt, _ = self.read_samples(parameters, context, feedback, meta["field"])
            hp.recondition(samples.coords, samples.values)
        else:
            crs_wkt = meta.get("crs_wkt", "")
            crs = QgsCoordinateReferenceSystem.fromWkt(crs_wkt) if crs_wkt else QgsCoordinateReferenceSystem()
        cov_paths = _covariates(self, parameters, context, crs_wkt)
        if len(cov_paths) != len(meta["covariates"]):
            raise GeoMLError(f"The model was trained with {len(meta['covariates'])} covariate raster(s) "
                             f"({', '.join(meta['covariates']) or 'none'}); give the same ones, in that order.")
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
