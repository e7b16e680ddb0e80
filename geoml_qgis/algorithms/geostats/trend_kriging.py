"""geoml:trendkriging — universal kriging, kriging with external drift and regression kriging onto a raster grid."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
)

from ...compat import SOURCE_RASTER
from ...core.errors import GeoMLError
from ...core.geostats.drift import DRIFTS
from ..common.base import progress_callback
from ..common.parameters import enum_choice, enum_parameter
from .cv_outputs import CV_HELP, add_cv_params, cv_outputs, read_cv
from .params import GRID, GRID_HELP, MODEL_HELP, NEIGHBOUR_HELP, SAMPLE_HELP, GeostatsAlgorithm

KRIGING_TYPES = ["universal kriging / external drift", "regression kriging (GLS trend)"]


class TrendKriging(GeostatsAlgorithm):
    NAME = "trendkriging"
    DISPLAY_NAME = "Kriging with a trend (universal, external drift, regression)"
    ONE_OF = (GRID,)
    HELP = (
        "Kriging of a field whose mean varies across the map: with the coordinates (universal kriging), with "
        "covariate rasters such as elevation, distance to a river or magnetics (kriging with external drift), "
        "or as regression kriging (a trend fitted by generalised least squares on all samples, its residuals "
        "kriged, the kriging variance including the trend's uncertainty). Estimates and variances equal R gstat "
        "2.1's <i>krige(z ~ x + y, ...)</i> and <i>krige(z ~ covariate, ...)</i> to 1e-6 of the data's standard "
        "deviation (tested on Meuse).<br>" + SAMPLE_HELP +
        "<b>Kriging type</b> (KRIGING_TYPE): universal kriging / kriging with external drift (the trend is "
        "re-estimated in every neighbourhood), or regression kriging (one trend for the whole map; with all "
        "samples as neighbours both give the same result).<br>"
        "<b>Drift</b> (DRIFT): terms in the coordinates: constant (none: with covariates this is kriging with "
        "external drift), linear (x, y) or quadratic (also x&sup2;, xy, y&sup2;).<br>"
        "<b>Covariates</b> (COVARIATES, optional): rasters whose values are drift terms (every band counts). They "
        "are sampled at the samples (each sample must fall on a valid cell) and read on the output grid; cells "
        "where a covariate has no value stay nodata. Transform a covariate first where the relation is not "
        "linear (gstat's Meuse example uses sqrt(dist)).<br>"
        + MODEL_HELP.replace("<b>Variogram model</b>", "<b>Variogram model</b> of the residuals from the trend")
        + "A fitted model is fitted to the residuals of an ordinary least-squares trend with the same terms.<br>"
        + NEIGHBOUR_HELP + GRID_HELP + CV_HELP +
        "<b>Outputs</b>: OUTPUT_ESTIMATE and OUTPUT_VARIANCE (styled GeoTIFFs), OUTPUT_REPORT (optional HTML with "
        "the residual variogram), OUTPUT_CSV (optional CSV)."
    )

    #: a block-support subclass allows a constant drift without covariates (ordinary block kriging)
    NEEDS_TREND = True

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params(z=False)
        self.add_type_params()
        self.addParameter(enum_parameter("DRIFT", self.tr("Drift in the coordinates"), DRIFTS,
                                         "linear" if self.NEEDS_TREND else "constant"))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "COVARIATES", self.tr("Covariate rasters (external drift)"), SOURCE_RASTER,
            optional=True))
        self.add_grid_params()
        self.add_model_params()
        self.add_neighbour_params()
        if self.NEEDS_TREND:
            add_cv_params(self)
        self.addParameter(QgsProcessingParameterRasterDestination(
            "OUTPUT_ESTIMATE", self.tr("Kriging estimate")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "OUTPUT_VARIANCE", self.tr("Kriging variance")))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Report"), "HTML files (*.html)", optional=True, createByDefault=False))

    def add_type_params(self) -> None:
        self.addParameter(QgsProcessingParameterEnum("KRIGING_TYPE", self.tr("Kriging type"), KRIGING_TYPES,
                                                     defaultValue=0))

    def make_estimator(self, parameters, context, grid, model, drift, neighbours, radius, names):
        """The core estimator (not fitted) chosen by the parameters."""
        from ...core.geostats.regression import RegressionKriging
        from ...core.geostats.universal import UniversalKriging

        regression = self.parameterAsEnum(parameters, "KRIGING_TYPE", context) == 1
        cls = RegressionKriging if regression else UniversalKriging
        return cls(model, drift, neighbours, radius, tuple(names))

    def execute(self, parameters, context, feedback):
        from dataclasses import replace

        import numpy as np

        from ...core.geostats.crossval_trend import blocked_kfold_trend, leave_one_out_trend
        from ...core.geostats.drift import Drift
        from ...core.geostats.rasters import check_extent
        from ...core.geostats.trend_rasters import sample_covariates, trend_krige_to_rasters
        from ...core.io.provenance import provenance

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(samples.coords, grid)
        layers = self.parameterAsLayerList(parameters, "COVARIATES", context) or []
        paths = [layer.source() for layer in layers]
        drift = enum_choice(self, parameters, "DRIFT", DRIFTS, context)
        if drift == "constant" and not paths and self.NEEDS_TREND:
            raise GeoMLError("With a constant drift and no covariate there is no trend: use Ordinary kriging, "
                             "or choose a linear or quadratic drift or covariate rasters.")
        cov, names = sample_covariates(paths, samples.coords)
        if names:
            feedback.pushInfo("Covariates at the samples: " + ", ".join(
                f"{n} {cov[:, i].min():.4g}..{cov[:, i].max():.4g}" for i, n in enumerate(names)))
        design = Drift(drift, len(names), tuple(names))
        f = design.fit(samples.coords, cov if names else None)
        residuals = samples.values - f @ np.linalg.lstsq(f, samples.values, rcond=None)[0]
        if f.shape[1] > 1:
            feedback.pushInfo(f"Trend ({design.describe()}) explains {100 * (1 - residuals.var() / samples.values.var()):.1f}"
                              "% of the variance (least squares)")
        choice = self.read_model(parameters, context, replace(samples, values=residuals), feedback)
        neighbours, radius = self.read_neighbours(parameters, context)
        estimator = self.make_estimator(parameters, context, grid, choice.model, drift, neighbours, radius, names)
        estimator.fit(samples.coords, samples.values, cov if names else None)
        results = {}
        cv_setup = read_cv(self, parameters, context) if self.NEEDS_TREND else None
        progress = progress_callback(feedback)
        if cv_setup is not None:
            feedback.pushInfo(f"Cross-validation: {cv_setup['method']}")
            if cv_setup["method"] == "leave-one-out":
                cv = leave_one_out_trend(estimator, samples.coords, samples.values, cov if names else None)
            else:
                cv = blocked_kfold_trend(estimator, samples.coords, samples.values, cov if names else None,
                                         cv_setup["folds"], cv_setup["block_size"], cv_setup["seed"])
            results.update(cv_outputs(self, parameters, context, feedback, cv))
        est_path = self.parameterAsOutputLayer(parameters, "OUTPUT_ESTIMATE", context)
        var_path = self.parameterAsOutputLayer(parameters, "OUTPUT_VARIANCE", context)
        meta = provenance(f"geoml:{self.NAME}", {
            "field": field, "estimator": type(estimator).__name__, "drift": drift,
            "covariates": names, "model": choice.model.to_dict(), "neighbours": neighbours, "search_radius": radius})
        feedback.pushInfo(f"Kriging {grid.width} x {grid.height} cells from {len(samples.values)} samples")
        uncovered = trend_krige_to_rasters(estimator, grid, paths, est_path, var_path, meta, progress,
                                           self.reference_path(parameters, context))
        if uncovered:
            feedback.pushWarning(f"{uncovered} cells have no covariate value and are left nodata.")
        singular = getattr(estimator, "n_singular_", 0) or getattr(getattr(estimator, "kriging_", None), "n_singular_", 0)
        if singular:
            feedback.pushWarning(f"{singular} neighbourhood systems were singular (e.g. a covariate constant within "
                                 "the neighbourhood) and solved by least squares.")
        results.update({"OUTPUT_ESTIMATE": est_path, "OUTPUT_VARIANCE": var_path})
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        if report:
            from ...core.geostats.report import write_variogram_report
            from ...core.geostats.variogram import experimental_variogram

            ev = choice.experimental or experimental_variogram(samples.coords, residuals)
            write_variogram_report(report, ev, choice.model, choice.errors or {}, f"{field} (trend residuals)",
                                   samples.summary())
            results["OUTPUT_REPORT"] = report
        return results
