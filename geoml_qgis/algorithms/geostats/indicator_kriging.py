"""geoml:indicatorkriging — probabilities of exceeding cut-offs, E-type and conditional variance rasters."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from ...core.errors import GeoMLError
from ...core.geostats.models import MODEL_CHOICES
from ..common.base import progress_callback
from ..common.parameters import enum_choice, enum_parameter
from .cv_outputs import CV_HELP, add_cv_params, cv_outputs, read_cv
from .params import GRID, GRID_HELP, NEIGHBOUR_HELP, SAMPLE_HELP, GeostatsAlgorithm

VARIOGRAM_CHOICES = ["one per cut-off", "median indicator (one for all cut-offs)"]


def parse_cutoffs(text: str) -> list[float] | None:
    """``"200, 500; 1000"`` -> [200, 500, 1000]; empty -> None (deciles)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError as exc:
        raise GeoMLError(f"Cut-offs must be numbers separated by commas, e.g. 200, 500, 1000 ({exc}).") from exc


class IndicatorKrigingAlgorithm(GeostatsAlgorithm):
    NAME = "indicatorkriging"
    DISPLAY_NAME = "Indicator kriging (probability of exceeding cut-offs)"
    PARAMETER_HELP = {
        "VARIOGRAM_FILE": "A variogram model written by Fit variogram (JSON), used for every cut-off instead of "
                          "fitting.",
    }
    ONE_OF = (GRID,)
    HELP = (
        "Estimates, for every cell, the probability that the value exceeds each cut-off (e.g. an action level or "
        "an ore grade), without assuming any distribution: the samples are coded as indicators (1 at or below "
        "the cut-off), each indicator is kriged, and the results are corrected so that they form a proper "
        "distribution (order-relation corrections). The kriged indicators equal R gstat 2.1's "
        "<i>krige(I(z &lt;= cut-off) ~ 1, ...)</i> with the same model and neighbourhood (tested on Meuse).<br>"
        + SAMPLE_HELP.split("<b>Z field</b>")[0] +
        "<b>Cut-offs</b> (CUTOFFS): values separated by commas, inside the data range; empty: the nine deciles "
        "of the data.<br>"
        "<b>Indicator variogram</b> (INDICATOR_VARIOGRAM): one model fitted per cut-off, or one model fitted to the "
        "median indicator and used for every cut-off (median indicator kriging: faster, fewer order-relation "
        "problems).<br>"
        "<b>Variogram model</b> (VARIOGRAM_MODEL): the model type fitted to the indicator variograms (auto, "
        "spherical, exponential, gaussian, stable); <b>Variogram model file</b> (VARIOGRAM_FILE, optional): a "
        "JSON model (from <i>Fit variogram</i> or <i>Fit nested variogram</i> run on an indicator field) used for "
        "every cut-off instead.<br>"
        + NEIGHBOUR_HELP + GRID_HELP + CV_HELP.replace("ME, MAE", "the Brier score of the probabilities (logged), ME, MAE").replace(
            "default: the variogram range", "default: the longest indicator variogram range") +
        "<b>Outputs</b>: OUTPUT_EXCEEDANCE (one band per cut-off, named P(&gt;cut-off), styled 0 to 1), "
        "OUTPUT_ETYPE (the mean of each cell's distribution, from the corrected probabilities and the mean of the "
        "data in each class) and OUTPUT_VARIANCE (its conditional variance), optional OUTPUT_CSV."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params(z=False)
        self.addParameter(QgsProcessingParameterString("CUTOFFS", self.tr("Cut-offs (empty: deciles)"),
                                                       defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterEnum("INDICATOR_VARIOGRAM", self.tr("Indicator variogram"),
                                                     VARIOGRAM_CHOICES, defaultValue=0))
        self.addParameter(enum_parameter("VARIOGRAM_MODEL", self.tr("Variogram model"), MODEL_CHOICES, "spherical"))
        self.addParameter(QgsProcessingParameterFile(
            "VARIOGRAM_FILE", self.tr("Variogram file (JSON)"), extension="json",
            optional=True))
        self.add_grid_params()
        self.add_neighbour_params()
        add_cv_params(self)
        self.addParameter(QgsProcessingParameterRasterDestination(
            "OUTPUT_EXCEEDANCE", self.tr("Exceedance probabilities")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "OUTPUT_ETYPE", self.tr("E-type estimate"), optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "OUTPUT_VARIANCE", self.tr("Conditional variance"), optional=True))

    def execute(self, parameters, context, feedback):
        from pathlib import Path

        from ...core.geostats.crossval import CrossValidation
        from ...core.geostats.crossval_indicator import blocked_kfold_indicator
        from ...core.geostats.indicator import IndicatorKriging, leave_one_out_indicator
        from ...core.geostats.indicator_rasters import indicator_to_rasters
        from ...core.geostats.nested import model_from_json
        from ...core.geostats.rasters import check_extent
        from ...core.io.provenance import provenance

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(samples.coords, grid)
        cutoffs = parse_cutoffs(self.parameterAsString(parameters, "CUTOFFS", context) or "")
        kind = enum_choice(self, parameters, "VARIOGRAM_MODEL", MODEL_CHOICES, context)
        median = self.parameterAsEnum(parameters, "INDICATOR_VARIOGRAM", context) == 1
        models = None
        path = self.parameterAsFile(parameters, "VARIOGRAM_FILE", context)
        if path:
            if not Path(path).is_file():
                raise GeoMLError(f"Variogram model file not found: {path}")
            models = model_from_json(Path(path).read_text(encoding="utf-8"))
        neighbours, radius = self.read_neighbours(parameters, context)
        ik = IndicatorKriging(cutoffs, models, neighbours, radius, median, kind).fit(samples.coords, samples.values)
        for c, m in zip(ik.cutoffs_, ik.models_):
            feedback.pushInfo(f"Cut-off {c:g} ({100 * (samples.values <= c).mean():.0f}% of samples at or below): "
                              f"{m.describe()}")
        results = {}
        cv_setup = read_cv(self, parameters, context)
        if cv_setup is not None:
            feedback.pushInfo(f"Cross-validation: {cv_setup['method']}")
            if cv_setup["method"] == "leave-one-out":
                cv: CrossValidation = leave_one_out_indicator(ik, samples.coords, samples.values)
            else:
                cv = blocked_kfold_indicator(ik, samples.coords, samples.values, cv_setup["folds"],
                                             cv_setup["block_size"], cv_setup["seed"])
            results.update(cv_outputs(self, parameters, context, feedback, cv))
        exc_path = self.parameterAsOutputLayer(parameters, "OUTPUT_EXCEEDANCE", context)
        et_path = self.parameterAsOutputLayer(parameters, "OUTPUT_ETYPE", context) or None
        var_path = self.parameterAsOutputLayer(parameters, "OUTPUT_VARIANCE", context) or None
        meta = provenance("geoml:indicatorkriging", {
            "field": field, "cutoffs": [float(c) for c in ik.cutoffs_], "median_indicator": median,
            "models": [m.to_dict() for m in ik.models_], "neighbours": neighbours, "search_radius": radius})
        feedback.pushInfo(f"Kriging {len(ik.cutoffs_)} indicators onto {grid.width} x {grid.height} cells")
        corrected = indicator_to_rasters(ik, grid, exc_path, et_path, var_path, meta, progress_callback(feedback),
                                         self.reference_path(parameters, context))
        feedback.pushInfo(f"Order relations corrected at {corrected} cells.")
        results["OUTPUT_EXCEEDANCE"] = exc_path
        if et_path:
            results["OUTPUT_ETYPE"] = et_path
        if var_path:
            results["OUTPUT_VARIANCE"] = var_path
        return results
