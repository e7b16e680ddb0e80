"""geoml:krigingcrossvalidation — leave-one-out or spatially blocked k-fold cross-validation of kriging."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ..common.base import progress_callback
from ..common.styling import graduated, style_vector_output
from .params import MODEL_HELP, NEIGHBOUR_HELP, SAMPLE_HELP, GeostatsAlgorithm, optional_number

METHODS = ["leave-one-out", "spatially blocked k-fold"]


class KrigingCrossValidation(GeostatsAlgorithm):
    NAME = "krigingcrossvalidation"
    DISPLAY_NAME = "Kriging cross-validation"
    PARAMETER_HELP = {
        "METHOD": "Leave-one-out (each sample estimated from all the others) or spatially blocked k-fold (whole "
                  "square blocks held out, closer to mapping new ground).",
    }
    HELP = (
        "Checks a kriging set-up (variogram and neighbourhood) by predicting every sample without its own "
        "value: leave-one-out, or spatially blocked k-fold (square blocks dealt to folds, so that held-out "
        "samples are not next to training samples; a more honest test of mapping between samples).<br>"
        + SAMPLE_HELP + MODEL_HELP + NEIGHBOUR_HELP +
        "<b>Method</b> (METHOD), <b>Folds</b> (FOLDS) and <b>Block size</b> (BLOCK_SIZE, default: the variogram "
        "range) for the blocked k-fold; <b>Seed</b> (SEED) deals blocks to folds.<br>"
        "<b>Outputs</b>: OUTPUT, the samples with observed, estimate, kriging variance, error (estimate - observed) "
        "and standardized error (error / kriging standard deviation), styled by standardized error; "
        "OUTPUT_REPORT (HTML: ME, MAE, RMSE, MSDR, plots) and OUTPUT_CSV (CSV of the per-sample errors). "
        "MSDR, the mean squared standardized error, is about 1 when the kriging variance is honest."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.add_model_params()
        self.add_neighbour_params()
        self.addParameter(QgsProcessingParameterEnum("METHOD", self.tr("Method"), METHODS, defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            "FOLDS", self.tr("Folds (blocked k-fold)"), NUMBER_INTEGER, defaultValue=5, minValue=2))
        self.addParameter(QgsProcessingParameterNumber(
            "BLOCK_SIZE", self.tr("Block size (map units)"), NUMBER_DOUBLE, optional=True,
            minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "SEED", self.tr("Random seed"), NUMBER_INTEGER, defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Cross-validation errors")))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Cross-validation report"), "HTML files (*.html)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_CSV", self.tr("Cross-validation table (CSV)"), "CSV files (*.csv)", optional=True, createByDefault=False))
        for name in ("ME", "MAE", "RMSE", "MSDR"):
            self.addOutput(QgsProcessingOutputNumber(name, name))

    def execute(self, parameters, context, feedback):
        from ...core.geostats.crossval import blocked_kfold, leave_one_out
        from ...core.geostats.report import write_crossval_report
        from ...core.io.atomic import write_text_atomic
        from ...core.io.vector import PointTable
        from ..common.qgisio import points_to_sink

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        choice = self.read_model(parameters, context, samples, feedback)
        neighbours, radius = self.read_neighbours(parameters, context)
        progress = progress_callback(feedback)
        if self.parameterAsEnum(parameters, "METHOD", context) == 0:
            cv = leave_one_out(samples.coords, samples.values, choice.model, neighbours, radius, progress)
        else:
            cv = blocked_kfold(
                samples.coords, samples.values, choice.model, neighbours, radius,
                self.parameterAsInt(parameters, "FOLDS", context),
                optional_number(self, parameters, "BLOCK_SIZE", context) or None,
                self.parameterAsInt(parameters, "SEED", context), progress)
        s = cv.summary
        feedback.pushInfo(f"{cv.method}: n {s['n']}, ME {s['ME']:.4g}, MAE {s['MAE']:.4g}, "
                          f"RMSE {s['RMSE']:.4g}, MSDR {s['MSDR']:.4g}")
        table = cv.table
        z = table["z"].to_numpy() if "z" in table else None
        points = PointTable(table["x"].to_numpy(), table["y"].to_numpy(), z, table, crs_wkt)
        dest = points_to_sink(self, parameters, context, "OUTPUT", points, crs, feedback=feedback)
        style_vector_output(self, context, dest, graduated("std_error", ramp="rdbu_r"))
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        write_crossval_report(report, cv, choice.model, field)
        results = {"OUTPUT": dest, "OUTPUT_REPORT": report, **{k: s[k] for k in ("ME", "MAE", "RMSE", "MSDR")}}
        csv_path = self.parameterAsFileOutput(parameters, "OUTPUT_CSV", context)
        if csv_path:
            write_text_atomic(csv_path, table.to_csv(index=False))
            results["OUTPUT_CSV"] = csv_path
        return results
