"""geoml:trainhybridpredictor — kriging features + Conv1D + BiLSTM, trained on point samples."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from ...compat import NUMBER_INTEGER, SOURCE_RASTER
from ...core.geostats.models import MODEL_CHOICES
from ...core.io.matching import value_ranges
from ..common.base import progress_callback
from ..common.parameters import enum_choice, enum_parameter
from ..geostats.params import SAMPLE_HELP, GeostatsAlgorithm
from .covariates import covariate_paths, sample_covariates

TRANSFORMS = ["none", "log"]
LOSSES = ["mse", "huber"]


class TrainHybridPredictor(GeostatsAlgorithm):
    NAME = "trainhybridpredictor"
    GROUP = "hybrid"  # core/hybrid; shares the geostatistics parameters
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
        "<b>Variogram model</b> (VARIOGRAM_MODEL, default <i>auto</i>: the best of the four): model fitted for the kriging features (per fold in cross-validation).<br>"
        "<b>Loss</b> (LOSS): mean squared error, or Huber (less swayed by outliers).<br>"
        "<b>Epochs</b> (EPOCHS, early stopping on a validation part), <b>Members</b> (MEMBERS, networks in the seed ensemble), "
        "<b>Folds</b> (FOLDS), <b>Seed</b> (SEED).<br>"
        "<b>Outputs</b>: OUTPUT_MODEL (for <i>Predict with hybrid predictor</i>) and OUTPUT_REPORT (HTML)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "COVARIATES", self.tr("Covariate rasters"), SOURCE_RASTER, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "NEIGHBOURS", self.tr("Neighbours in the sequence"), NUMBER_INTEGER,
            defaultValue=16, minValue=1))
        self.addParameter(enum_parameter("TRANSFORM", self.tr("Transform"), TRANSFORMS, "none"))
        self.addParameter(enum_parameter("VARIOGRAM_MODEL", self.tr("Variogram model"), MODEL_CHOICES, "auto"))
        self.addParameter(enum_parameter("LOSS", self.tr("Loss"), LOSSES, "mse"))
        self.addParameter(QgsProcessingParameterNumber(
            "EPOCHS", self.tr("Epochs (maximum)"), NUMBER_INTEGER, defaultValue=200, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "MEMBERS", self.tr("Ensemble members"), NUMBER_INTEGER, defaultValue=3, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "FOLDS", self.tr("Cross-validation folds"), NUMBER_INTEGER, defaultValue=5, minValue=2))
        self.addParameter(QgsProcessingParameterNumber(
            "SEED", self.tr("Random seed"), NUMBER_INTEGER, defaultValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_MODEL", self.tr("Hybrid model"), "GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Report"), "HTML files (*.html)"))
        self.addOutput(QgsProcessingOutputNumber("HYBRID_RMSE", "Hybrid blocked-CV RMSE"))
        self.addOutput(QgsProcessingOutputNumber("KRIGING_RMSE", "Ordinary kriging blocked-CV RMSE"))

    def execute(self, parameters, context, feedback):
        from ...core.geostats.variogram import experimental_variogram, fit_variogram
        from ...core.hybrid.evaluate import blocked_comparison
        from ...core.hybrid.predictor import HybridPredictor, forward_transform
        from ...core.hybrid.report import write_hybrid_report
        from ...core.progress import scaled

        samples, _, crs_wkt, field = self.read_samples(parameters, context, feedback)
        cov_paths = covariate_paths(self, parameters, context, crs_wkt)
        cov, names = sample_covariates(cov_paths, samples.coords)
        transform = TRANSFORMS[self.parameterAsEnum(parameters, "TRANSFORM", context)]
        kind = enum_choice(self, parameters, "VARIOGRAM_MODEL", MODEL_CHOICES, context)
        args = {"neighbours": self.parameterAsInt(parameters, "NEIGHBOURS", context), "transform": transform,
                "epochs": self.parameterAsInt(parameters, "EPOCHS", context),
                "ensemble": self.parameterAsInt(parameters, "MEMBERS", context),
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
        model_path = self.model_output(parameters, context, feedback)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        hp.save(model_path, {"field": field, "covariates": names, "crs_wkt": crs_wkt,
                             "covariate_ranges": [] if cov is None else value_ranges(cov),
                             "cv_scores": cmp.scores.to_dict(orient="index")})
        units = "log units" if transform == "log" else "data units"
        write_hybrid_report(report_path, cmp, hp.log_, field, units,
                            {**args, "variogram": model.describe(), "covariates": ", ".join(names) or "none",
                             "samples": samples.summary()})
        return {"OUTPUT_MODEL": model_path, "OUTPUT_REPORT": report_path,
                "HYBRID_RMSE": float(cmp.scores.loc["hybrid", "RMSE"]),
                "KRIGING_RMSE": float(cmp.scores.loc["ordinary kriging", "RMSE"])}
